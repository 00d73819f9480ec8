using System.Diagnostics;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;
using CrossModal.Tensors.Threading;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// GRU forward + backward throughput (captions/s) on a caption batch [128 x T x 300 -> 1024] with lengths drawn
/// from 12..20 (seeded), unidirectional and bidirectional, next to PyTorch CPU (benchmarks/reference/
/// gru_reference.py, packed sequences, 2 threads) on the same shapes and lengths in the same run. The loss is
/// sum(output * G) for a fixed random G, so every output position receives a gradient; the input requires a
/// gradient too (as word embeddings do). Ours: best of 2 x reps batches; PyTorch: best of reps batches, run before
/// and after ours. Options: --batch N, --hidden H, --input I, --reps N (default 5), --no-reference.
/// </summary>
internal static class GruSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        int batch = int.Parse(ctx.Option("--batch") ?? "128"), input = int.Parse(ctx.Option("--input") ?? "300"), hidden = int.Parse(ctx.Option("--hidden") ?? "1024");
        int reps = ctx.Option("--reps") is { } r ? int.Parse(r) : ctx.Quick ? 2 : 5;
        var rng = new Rng(2024);
        var lengths = new int[batch];
        for (int i = 0; i < batch; i++) lengths[i] = 12 + rng.NextInt(9);
        string lengthList = string.Join(",", lengths);

        int referenceThreads = ctx.ThreadCounts.Max();
        bool withReference = !ctx.Arguments.Contains("--no-reference");
        if (withReference) Prerequisites.Python("torch");
        var torch = new Dictionary<bool, double>();
        void RunReference()
        {
            Console.Error.WriteLine($"gru: PyTorch reference with {referenceThreads} threads ...");
            var r = PythonReference.Run("gru_reference.py",
                new[] { "--input", input.ToString(), "--hidden", hidden.ToString(), "--lengths", lengthList, "--threads", referenceThreads.ToString(), "--reps", reps.ToString() },
                referenceThreads);
            foreach (bool bi in new[] { false, true })
            {
                double s = r.GetProperty(bi ? "bidirectional_s" : "unidirectional_s").GetDouble();
                torch[bi] = torch.TryGetValue(bi, out double old) ? Math.Min(old, s) : s;
            }
        }

        // The reference runs before and after ours (best of both), so a noisy moment on the shared machine does not
        // favour either side.
        if (withReference) RunReference();
        var ours = new Dictionary<(bool, int), double>();
        int keep = Parallelism.Threads;
        try
        {
            foreach (bool bidirectional in new[] { false, true })
                foreach (int threads in ctx.ThreadCounts)
                {
                    Parallelism.Threads = threads;
                    ours[(bidirectional, threads)] = Measure(batch, input, hidden, lengths, bidirectional, 2 * reps);
                }
        }
        finally { Parallelism.Threads = keep; }
        if (withReference && !ctx.Quick) RunReference();

        foreach (bool bidirectional in new[] { false, true })
        {
            double? torchSeconds = torch.TryGetValue(bidirectional, out double ts0) ? ts0 : null;
            foreach (int threads in ctx.ThreadCounts)
            {
                double seconds = ours[(bidirectional, threads)];
                var extra = new Dictionary<string, object>
                {
                    ["seconds_per_batch"] = Math.Round(seconds, 5),
                    ["reference_threads"] = referenceThreads,
                    ["lengths"] = "12..20",
                };
                if (torchSeconds is { } ts) extra["reference_seconds_per_batch"] = Math.Round(ts, 5);
                yield return new BenchResult("gru", $"{(bidirectional ? "bigru" : "gru")}-{batch}x{lengths.Max()}x{input}-{hidden}", threads,
                    "captions/s", batch / seconds, torchSeconds is null ? null : "pytorch", torchSeconds is { } t ? batch / t : null, Extra: extra);
            }
        }
    }

    private static double Measure(int batch, int input, int hidden, int[] lengths, bool bidirectional, int reps)
    {
        var rng = new Rng(7);
        var gru = new Gru(input, hidden, rng, bidirectional: bidirectional);
        int t = lengths.Max(), d = bidirectional ? 2 : 1;
        var x = Tensor.Zeros(batch, t, input);
        rng.Normal(x.Data);
        x.RequiresGrad = true;
        var g = Tensor.Zeros(batch, t, d * hidden);
        rng.Normal(g.Data);

        void Step()
        {
            using var scope = TensorScope.Begin();
            var (output, _) = gru.Forward(x, lengths);
            Tape.Backward(Ops.SumAll(Ops.Mul(output, g)));
        }

        Step(); // warm-up (JIT, pools)
        double best = double.MaxValue;
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            Step();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
