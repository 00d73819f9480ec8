using CrossModal.Benchmarks.Native;
using CrossModal.Tensors;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// GEMM throughput (GFLOP/s = 2mnk / s, best of several runs) on square and field shapes, next to OpenBLAS measured
/// in the same process on the same buffers. Layout nn: A [m x k], B [k x n], row-major; with --nt also B
/// transposed (B stored [n x k], as in Linear and the GRU). OpenBLAS runs the core <see cref="Machine"/> chose from
/// the CPU features .NET reports (SkylakeX with AVX-512, Zen or Haswell with AVX2; --openblas-core NAME overrides).
/// Options: --shapes MxNxK,... to measure other shapes; --rounds N (default 3, 1 with --quick) alternations of ours
/// and OpenBLAS, each the best of 5 runs (more rounds on a busy machine); --cpu-time times the 1-thread cases by the
/// thread's CPU time instead of the wall clock (both sides run on the calling thread then), so that time spent
/// waiting for other processes on a shared machine does not count. Extra fields: layout, timing (wall or
/// thread-cpu), kernel (ours), peak_fraction and reference_peak_fraction (of
/// <see cref="Machine.PeakGflopsPerCore"/> times the threads).
/// </summary>
internal static class GemmSuite
{
    private static readonly (int M, int N, int K)[] DefaultShapes =
    {
        (1024, 1024, 1024), (2048, 2048, 2048), (128, 1024, 2048), (4608, 1024, 2048),
        (128, 3072, 1024), (1536, 3072, 300), (12, 4608, 1024),
    };

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        string core = OpenBlas.Load();
        if (!core.Equals(Machine.OpenBlasCore, StringComparison.OrdinalIgnoreCase))
            Console.Error.WriteLine($"gemm: OpenBLAS was asked for core {Machine.OpenBlasCore} and runs {core}.");
        double peak = Machine.PeakGflopsPerCore;
        Console.Error.WriteLine($"gemm: ours={Gemm.KernelName}, openblas core={core}, peak {peak:F0} GFLOP/s per core");
        var shapes = ctx.Option("--shapes") is { } s
            ? s.Split(',').Select(x => x.Split('x').Select(int.Parse).ToArray()).Select(v => (v[0], v[1], v[2])).ToArray()
            : DefaultShapes;
        var layouts = ctx.Arguments.Contains("--nt") ? new[] { false, true } : new[] { false };
        int rounds = ctx.Option("--rounds") is { } r ? int.Parse(r) : ctx.Quick ? 1 : 3;
        int keepThreads = Parallelism.Threads;
        try
        {
            foreach (bool transB in layouts)
                foreach (var (m, n, k) in shapes)
                    foreach (int threads in ctx.ThreadCounts)
                        yield return Measure(ctx, m, n, k, transB, threads, core, peak, rounds);
        }
        finally { Parallelism.Threads = keepThreads; }
    }

    private static unsafe BenchResult Measure(BenchContext ctx, int m, int n, int k, bool transB, int threads, string core, double peak, int rounds)
    {
        var rng = new Rng(42);
        var a = new float[(long)m * k];
        var b = new float[(long)k * n];
        var c = new float[(long)m * n];
        rng.Uniform(a, -1, 1);
        rng.Uniform(b, -1, 1);
        int ldb = transB ? k : n;
        double flops = 2.0 * m * n * k;
        double ours = 0, reference = 0;
        bool cpuTime = threads == 1 && ctx.Arguments.Contains("--cpu-time") && ThreadClock.Available;
        Func<double>? clock = cpuTime ? ThreadClock.Seconds : null;
        fixed (float* pa = a, pb = b, pc = c)
        {
            float* xa = pa, xb = pb, xc = pc;
            // Alternate the two a few times so that a noisy moment does not favour either side.
            for (int round = 0; round < rounds; round++)
            {
                Parallelism.Threads = threads;
                ours = Math.Max(ours, flops / ctx.BestSeconds(() => Gemm.Multiply(false, transB, m, n, k, 1f, xa, k, xb, ldb, 0f, xc, n), clock: clock) / 1e9);
                Thread.Sleep(300); // let our pool threads stop spinning
                OpenBlas.SetThreads(threads);
                reference = Math.Max(reference, flops / ctx.BestSeconds(() => OpenBlas.Sgemm(false, transB, m, n, k, 1f, xa, k, xb, ldb, 0f, xc, n), clock: clock) / 1e9);
                Thread.Sleep(300); // OpenBLAS workers spin for a while after each call
            }
        }
        var extra = new Dictionary<string, object>
        {
            ["layout"] = transB ? "nt" : "nn",
            ["timing"] = cpuTime ? "thread-cpu" : "wall",
            ["kernel"] = Gemm.KernelName,
            ["openblas_core"] = core,
            ["peak_fraction"] = Math.Round(ours / (peak * threads), 3),
            ["reference_peak_fraction"] = Math.Round(reference / (peak * threads), 3),
        };
        return new BenchResult("gemm", $"{m}x{n}x{k}", threads, "GFLOP/s", ours, "openblas", reference, Extra: extra);
    }
}
