using System.Diagnostics;
using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Models.Naaf;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;
using CrossModal.Tensors.Threading;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// NAAF next to PyTorch (benchmarks/reference/naaf_reference.py: the original's math with batched tensor ops, same
/// shapes, same run):
/// `naaf-train`: one training step (batch 128, 36 regions x 2048 input, joint 1024, Bi-GRU over 300-d words,
/// captions of 8-20 tokens, scores with the caption-by-caption threshold walk, hinge loss with the hardest negative,
/// clipping, Adam);
/// `naaf-score`: test-time scoring (thres_safe 0.05, intra-sentence smoothing) of 1,000 images x 5,000 captions
/// (36 regions x 1024, captions of 8-20 tokens, shards of 128): we score a fixed fraction of the captions, PyTorch a
/// smaller one, both extrapolated to the full matrix.
/// </summary>
internal static class NaafSuite
{
    private const int Batch = 128, Regions = 36, ImgDim = 2048, Embed = 1024, Vocab = 8481, MinLen = 8, MaxLen = 20;
    private const float ThresSafe = 0.05f;

    public static IEnumerable<BenchResult> Train(BenchContext ctx)
    {
        int threads = ctx.ThreadCounts.Max();
        Parallelism.Threads = threads;
        var config = new NaafConfig { ImgDim = ImgDim, EmbedSize = Embed, VocabSize = Vocab };
        var model = new NaafModel(config, new Rng(0));
        var objective = new HingeObjective(model, new NaafFamily().DefaultRecipe);
        var data = new Rng(1);
        var lengths = Enumerable.Range(0, Batch).Select(_ => MinLen + data.NextInt(MaxLen - MinLen + 1)).OrderByDescending(l => l).ToArray();
        int maxLen = lengths[0];
        var tokens = new int[Batch * maxLen];
        for (int i = 0; i < Batch; i++)
            for (int t = 0; t < lengths[i]; t++) tokens[i * maxLen + t] = 4 + data.NextInt(Vocab - 4);
        var features = Tensor.Zeros(Batch, Regions, ImgDim);
        data.Uniform(features.Data, 0f, 1f);
        var indices = Enumerable.Range(0, Batch).ToArray();
        var batch = new Batch(indices, indices, features, tokens, lengths, maxLen);
        void Step() => objective.Step(batch, new TrainingStep(0, 1));

        double ours = ctx.BestSeconds(Step, ctx.Quick ? 2 : 4, 1);
        double oursCpu = ctx.BestSeconds(Step, ctx.Quick ? 1 : 2, 0, CpuSeconds);
        Console.Error.WriteLine($"naaf-train: ours {ours * 1000:F0} ms/step ({oursCpu * 1000:F0} ms CPU); running PyTorch...");
        var reference = PythonReference.Run("naaf_reference.py", new[] { "train", "--steps", ctx.Quick ? "1" : "3" }, threads);
        double theirs = reference.GetProperty("seconds_per_step").GetDouble();
        double theirsCpu = reference.GetProperty("cpu_seconds_per_step").GetDouble();
        yield return new BenchResult("naaf-train", $"b{Batch}-r{Regions}x{ImgDim}-e{Embed}-lambda20", threads, "s/step", ours,
            "pytorch", theirs, HigherIsBetter: false, new Dictionary<string, object>
            {
                ["pytorch_peak_rss_mb"] = Math.Round(reference.GetProperty("peak_rss_mb").GetDouble()),
                ["peak_rss_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0),
                // On a shared machine the CPU time per step (all threads) is steadier than the wall clock; with one
                // thread its ratio is the best estimate of the idle ratio.
                ["cpu_seconds_per_step"] = Math.Round(oursCpu, 3),
                ["pytorch_cpu_seconds_per_step"] = Math.Round(theirsCpu, 3),
                ["cpu_ratio"] = Math.Round(theirsCpu / oursCpu, 2),
                ["threshold_updates_per_step"] = model.LastMining?.Updates ?? 0,
                ["pytorch_threshold_updates_per_step"] = reference.GetProperty("threshold_updates_per_step").GetDouble(),
            });
    }

    public static IEnumerable<BenchResult> Score(BenchContext ctx)
    {
        int threads = ctx.ThreadCounts.Max();
        Parallelism.Threads = threads;
        const int images = 1000, captions = 5000, shard = 128;
        double fraction = ctx.Quick ? 0.0256 : 0.1024; // 128 or 512 captions: whole shards
        int nCaps = (int)Math.Round(captions * fraction);
        var rng = new Rng(2);
        var regionSet = new EmbeddingSet(Embed);
        var buf = new float[Regions * Embed];
        for (int i = 0; i < images; i++)
        {
            rng.Normal(buf);
            for (int r = 0; r < Regions; r++) Normalize(buf.AsSpan(r * Embed, Embed));
            regionSet.Append(buf);
        }
        var captionSet = new EmbeddingSet(Embed);
        for (int c = 0; c < nCaps; c++)
        {
            int len = MinLen + rng.NextInt(MaxLen - MinLen + 1);
            var w = new float[len * Embed];
            rng.Normal(w);
            for (int t = 0; t < len; t++) Normalize(w.AsSpan(t * Embed, Embed));
            captionSet.Append(w);
        }
        var model = new NaafModel(new NaafConfig { ImgDim = 8, EmbedSize = Embed, VocabSize = 10 }, new Rng(3));
        model.Threshold.ThresSafe = ThresSafe;
        model.Eval();
        var output = new float[images * nCaps];
        double seconds = ctx.BestSeconds(() =>
        {
            for (int i0 = 0; i0 < images; i0 += shard)
                for (int j0 = 0; j0 < nCaps; j0 += shard)
                    model.ScoreBlock(regionSet, i0, Math.Min(images, i0 + shard), captionSet, j0, Math.Min(nCaps, j0 + shard), output.AsSpan(i0 * nCaps + j0), nCaps);
        }, ctx.Quick ? 1 : 2, 1);
        double cpuSeconds = ctx.BestSeconds(() =>
        {
            for (int i0 = 0; i0 < images; i0 += shard)
                for (int j0 = 0; j0 < nCaps; j0 += shard)
                    model.ScoreBlock(regionSet, i0, Math.Min(images, i0 + shard), captionSet, j0, Math.Min(nCaps, j0 + shard), output.AsSpan(i0 * nCaps + j0), nCaps);
        }, 1, 0, CpuSeconds);
        double pairs = (double)images * nCaps;
        Console.Error.WriteLine($"naaf-score: ours {pairs / seconds:F0} pairs/s ({pairs / cpuSeconds:F0} per CPU second); running PyTorch...");
        var reference = PythonReference.Run("naaf_reference.py", new[] { "score", "--caption-fraction", ctx.Quick ? "0.005" : "0.02",
            "--thres-safe", ThresSafe.ToString(System.Globalization.CultureInfo.InvariantCulture) }, threads);
        double theirs = reference.GetProperty("pairs_per_second").GetDouble();
        double theirsPerCpu = reference.GetProperty("pairs").GetDouble() / reference.GetProperty("cpu_seconds").GetDouble();
        yield return new BenchResult("naaf-score", $"{images}x{captions}-r{Regions}-e{Embed}-thres_safe{ThresSafe}", threads, "pairs/s", pairs / seconds,
            "pytorch", theirs, HigherIsBetter: true, new Dictionary<string, object>
            {
                ["timed_fraction"] = fraction,
                ["full_matrix_seconds"] = Math.Round(seconds / fraction, 1),
                ["pytorch_full_matrix_seconds"] = Math.Round(reference.GetProperty("extrapolated_full_seconds").GetDouble(), 1),
                ["peak_rss_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0),
                ["pytorch_peak_rss_mb"] = Math.Round(reference.GetProperty("peak_rss_mb").GetDouble()),
                ["pairs_per_cpu_second"] = Math.Round(pairs / cpuSeconds),
                ["pytorch_pairs_per_cpu_second"] = Math.Round(theirsPerCpu),
                ["cpu_ratio"] = Math.Round(pairs / cpuSeconds / theirsPerCpu, 2),
            });
    }

    /// <summary>The process's CPU time (all threads) in seconds.</summary>
    private static double CpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    private static void Normalize(Span<float> v)
    {
        float n = System.Numerics.Tensors.TensorPrimitives.Norm(v);
        System.Numerics.Tensors.TensorPrimitives.Divide(v, n, v);
    }
}
