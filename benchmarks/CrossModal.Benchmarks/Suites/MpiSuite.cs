using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CrossModal.Data;
using CrossModal.Distributed;
using CrossModal.Distributed.Mpi;
using CrossModal.Models;
using CrossModal.Models.Objectives;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Models.Vsrn;
using CrossModal.Tensors;
using CrossModal.Tensors.Threading;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// `mpi`: data-parallel training steps on this machine, one thread per rank: N = 1 (this process) and N = 2 (mpirun
/// starting this program twice in its "mpi-rank" mode), for VSE++ (batch 128, 4096-d features, GRU 300 -> 1024) and
/// SCAN t2i LSE (batch 128, 36 x 2048 regions, Bi-GRU, joint 1024), captions of 8-20 tokens, vocabulary 8,481, the
/// shapes of vsepp-train and scan-train, and VSRN (the same regions, embed 1024, with its caption branch: 173 MB of
/// gradients, whose GCN blocks finish their gradients one after the other). Reports seconds per step, the time
/// inside collectives (the gradient all-reduce and the gathers of the loss, waiting for the slower rank included), and the bytes each rank moves per
/// step: payload by collective and what ring algorithms send (all-reduce 2 (N-1)/N x its buffer); also rank 0's CPU
/// seconds per step, which a loaded (shared) machine inflates far less than wall time; and the gradient all-reduce
/// alone, started by both ranks together right after a barrier (best of 3): its cost without the wait for the slower
/// rank, the most that overlapping it with the backward pass could hide. The reference is N = 1: the ratio is the
/// speed-up of two ranks. N = 2 runs twice: as training does, each gradient bucket's all-reduce started during the
/// backward once its gradients are final (GradientReducer.Overlap; the count of such buckets is reported), and with
/// every all-reduce after the backward (case suffix -no-overlap).
/// </summary>
internal static class MpiSuite
{
    private const int Batch = 128, Vocab = 8481, MinLen = 8, MaxLen = 20, Regions = 36;

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        int steps = ctx.Quick ? 2 : 4;
        string? mpirun = Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator).Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
        if (mpirun is null)
            Console.Error.WriteLine($"mpi: mpirun not found: install the references with `{Prerequisites.SetupCommand}` (Debian packages openmpi-bin libopenmpi-dev); only N = 1 is measured.");
        foreach (var model in new[] { "vsepp", "scan", "vsrn" })
        {
            Console.Error.WriteLine($"mpi: {model}, 1 rank...");
            var one = Measure(model, new SingleProcessCommunicator(), steps);
            yield return Result(model, 1, one, null);
            if (mpirun is null) continue;
            foreach (bool overlapped in new[] { true, false })
            {
                Console.Error.WriteLine($"mpi: {model}, 2 ranks under mpirun{(overlapped ? "" : ", all-reduce after the backward")}...");
                Measurement? two = null;
                try
                {
                    two = JsonSerializer.Deserialize<Measurement>(RunRanks(mpirun, overlapped ? model : model + "-no-overlap", 2, steps));
                }
                catch (InvalidOperationException e)
                {
                    Console.Error.WriteLine($"mpi: {e.Message}; N = 2 skipped.");
                }
                if (two is not null) yield return Result(overlapped ? model : model + "-no-overlap", 2, two, one);
            }
        }
    }

    /// <summary>The "mpi-rank" mode: one rank of an mpirun job; rank 0 prints its measurement as one JSON line.</summary>
    public static int Rank(string[] args)
    {
        string model = args[1];
        int steps = int.Parse(args[2], CultureInfo.InvariantCulture);
        using var ranks = MpiCommunicator.Initialize();
        string json = JsonSerializer.Serialize(Measure(model, ranks, steps));
        if (ranks.Rank == 0) Console.WriteLine(json);
        return 0;
    }

    /// <summary>Runs the "mpi-rank" mode under mpirun; returns rank 0's JSON line.</summary>
    private static string RunRanks(string mpirun, string model, int ranks, int steps)
    {
        var psi = new ProcessStartInfo(mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // --bind-to none, as README's commands: Open MPI's default pins each rank to one core, where the runtime's own
        // threads (GC, JIT) queue behind the rank's work (a VSE++ step took 0.44 s pinned, 0.20 s unpinned, idle).
        foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", ranks.ToString(CultureInfo.InvariantCulture),
                     Environment.ProcessPath ?? "dotnet" })
            psi.ArgumentList.Add(a);
        // Started as `dotnet CrossModal.Benchmarks.dll`: pass the assembly; as the apphost: nothing more.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") psi.ArgumentList.Add(typeof(MpiSuite).Assembly.Location);
        foreach (var a in new[] { "mpi-rank", model, steps.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Contains('{'));
        if (p.ExitCode != 0 || line is null)
        {
            // One line: the ranks' first exception (e.g. libmpi.so.40 missing) or their last words, not the whole output.
            var lines = (err.Result + "\n" + output).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            string last = lines.FirstOrDefault(l => l.Contains("Exception", StringComparison.Ordinal)) ?? lines.LastOrDefault() ?? "no output";
            throw new InvalidOperationException($"mpirun -np {ranks} exited with {p.ExitCode} ({last})");
        }
        return line[line.IndexOf('{')..];
    }

    /// <summary>What one rank measured over the timed steps (after one warm-up step).</summary>
    private sealed record Measurement(double SecondsPerStep, double MedianSecondsPerStep, double CollectiveSeconds, double AllReduceSeconds,
        long AllReduceBytes, long GatherBytes, long ReduceScatterBytes, double WireBytes, long Parameters, int Buckets, double Loss,
        double CpuSecondsPerStep, double AllReduceCpuSeconds, double OptimizerSeconds, double AllReduceAloneSeconds, int BucketsStartedEarly);

    /// <summary>This process's CPU seconds so far (all threads, user + system).</summary>
    private static double CpuSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    private static Measurement Measure(string kind, ICommunicator ranks, int steps)
    {
        Parallelism.Threads = 1;
        bool overlap = !kind.EndsWith("-no-overlap", StringComparison.Ordinal);
        kind = kind.Replace("-no-overlap", "", StringComparison.Ordinal);
        MatchingModel model = kind switch
        {
            "scan" => new ScanModel(new ScanConfig { ImgDim = 2048, EmbedSize = 1024, VocabSize = Vocab }, new Rng(0)),
            "vsrn" => new VsrnModel(new VsrnConfig { ImgDim = 2048, EmbedSize = 1024, VocabSize = Vocab }, new Rng(0)),
            _ => new VseModel(new VseConfig { ImgDim = 4096, VocabSize = Vocab }, new Rng(0)),
        };
        var objective = model.Family.CreateObjective(model, new TrainingRecipe { MaxViolation = true });
        var parameters = model.Parameters();
        var reducer = new GradientReducer(parameters);
        double allReduce = 0, allReduceCpu = 0, optimizer = 0;
        long reduced = 0;
        void Reduce(IReadOnlyList<Tensor> _)
        {
            long t0 = Stopwatch.GetTimestamp();
            double c0 = CpuSeconds();
            reducer.AllReduce(ranks);
            allReduce += Stopwatch.GetElapsedTime(t0).TotalSeconds;
            allReduceCpu += CpuSeconds() - c0;
            reduced = Stopwatch.GetTimestamp();
        }
        var batch = LocalBatch(kind, ranks);
        var times = new List<double>();
        CommunicationStats? start = null;
        double loss = 0, cpu = 0;
        int started = 0;
        for (int s = 0; s <= steps; s++)
        {
            if (s == 1)
            {
                start = ranks.Stats.Snapshot();
                allReduce = allReduceCpu = optimizer = 0;
            }
            ranks.Barrier();
            long t0 = Stopwatch.GetTimestamp();
            double c0 = CpuSeconds();
            loss = objective.Step(batch, new TrainingStep(0, s + 1, Reduce, ranks.Size > 1 ? ranks : null, overlap ? _ => reducer.Overlap(ranks) : null)).Loss;
            started = reducer.StartedEarly;
            if (s == 0) continue;
            // After the all-reduce (the AfterBackward seam) the step only clips and updates: the part no rank count divides.
            optimizer += Stopwatch.GetElapsedTime(reduced).TotalSeconds;
            times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            cpu += CpuSeconds() - c0;
        }
        var d = ranks.Stats.Since(start!);
        // The all-reduce alone (the gradients of the last step are still there): both ranks enter together.
        double alone = ranks.Size > 1 ? double.MaxValue : 0;
        for (int i = 0; i < 3 && ranks.Size > 1; i++)
        {
            ranks.Barrier();
            long t0 = Stopwatch.GetTimestamp();
            reducer.AllReduce(ranks);
            alone = Math.Min(alone, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        // The barriers that align the steps are not part of a step.
        double collective = d.TotalSeconds - d.Seconds(CollectiveKind.Barrier);
        times.Sort();
        return new Measurement(times[0], times[times.Count / 2], collective / steps, allReduce / steps,
            d.PayloadBytes(CollectiveKind.AllReduce) / steps, d.PayloadBytes(CollectiveKind.AllGather) / steps,
            d.PayloadBytes(CollectiveKind.ReduceScatter) / steps, d.WireBytes(ranks.Size) / steps, parameters.Sum(p => (long)p.Length),
            reducer.BucketCount, loss, cpu / steps, allReduceCpu / steps, optimizer / steps, alone, started);
    }

    /// <summary>This rank's share of one synthetic global batch (the same on every rank: seeded).</summary>
    private static Batch LocalBatch(string kind, ICommunicator ranks)
    {
        var rng = new Rng(1);
        var lengths = Enumerable.Range(0, Batch).Select(_ => MinLen + rng.NextInt(MaxLen - MinLen + 1)).OrderByDescending(l => l).ToArray();
        bool regions = kind != "vsepp";
        int width = regions ? Regions * 2048 : 4096;
        var features = new float[Batch * width];
        rng.Uniform(features, 0f, 1f);
        var tokens = lengths.Select(l => Enumerable.Range(0, l).Select(_ => 4 + rng.NextInt(Vocab - 4)).ToArray()).ToArray();
        var rows = BatchShard.RowsOf(ranks.Rank, ranks.Size, Batch);
        int maxLen = lengths[rows[0]];
        var local = new int[rows.Length * maxLen];
        var images = regions ? Tensor.Zeros(rows.Length, Regions, 2048) : Tensor.Zeros(rows.Length, 4096);
        for (int k = 0; k < rows.Length; k++)
        {
            tokens[rows[k]].CopyTo(local, k * maxLen);
            features.AsSpan(rows[k] * width, width).CopyTo(images.Data.Slice(k * width));
        }
        var indices = rows.ToArray();
        var batch = new Batch(indices, indices, images, local, rows.Select(j => lengths[j]).ToArray(), maxLen);
        return ranks.Size > 1 ? batch with { Shard = new BatchShard(ranks.Rank, ranks.Size, lengths) } : batch;
    }

    private static BenchResult Result(string model, int ranks, Measurement m, Measurement? one) => new(
        "mpi", $"{model}-b{Batch}-n{ranks}", 1, "s/step", m.SecondsPerStep, one is null ? null : "1 rank", one?.SecondsPerStep, HigherIsBetter: false,
        new Dictionary<string, object>
        {
            ["ranks"] = ranks,
            ["threads_per_rank"] = 1,
            ["median_s_per_step"] = Math.Round(m.MedianSecondsPerStep, 4),
            ["collective_s_per_step"] = Math.Round(m.CollectiveSeconds, 4),
            ["gradient_allreduce_s_per_step"] = Math.Round(m.AllReduceSeconds, 4),
            // Rank 0's CPU seconds inside the steps (Open MPI spins while a collective waits, so waiting counts too).
            ["cpu_s_per_step"] = Math.Round(m.CpuSecondsPerStep, 4),
            ["gradient_allreduce_cpu_s_per_step"] = Math.Round(m.AllReduceCpuSeconds, 4),
            ["gradient_allreduce_alone_s"] = Math.Round(m.AllReduceAloneSeconds, 4),
            ["clip_and_adam_s_per_step"] = Math.Round(m.OptimizerSeconds, 4),
            ["parameters"] = m.Parameters,
            ["buckets"] = m.Buckets,
            // Buckets whose all-reduce started during the backward (the rest start at its end; the wait for all of
            // them is gradient_allreduce_s_per_step).
            ["buckets_started_during_backward"] = m.BucketsStartedEarly,
            ["allreduce_payload_mb"] = Math.Round(m.AllReduceBytes / 1e6, 2),
            ["allgather_payload_mb"] = Math.Round(m.GatherBytes / 1e6, 3),
            ["reducescatter_payload_mb"] = Math.Round(m.ReduceScatterBytes / 1e6, 3),
            ["ring_wire_mb_per_rank"] = Math.Round(m.WireBytes / 1e6, 2),
            ["loss"] = Math.Round(m.Loss, 4),
        });
}
