using System.Diagnostics;
using CrossModal.Models;
using CrossModal.Data;
using CrossModal.Models.Objectives;
using CrossModal.Models.Scan;
using CrossModal.Tensors;
using CrossModal.Tensors.Threading;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// SCAN t2i LSE next to PyTorch (benchmarks/reference/scan_reference.py, same shapes, same run):
/// `scan-train`: one training step (batch 128, 36 regions x 2048 input, joint 1024, Bi-GRU over 300-d words,
/// captions of 8-20 tokens, hinge loss with max violation, clipping, Adam);
/// `scan-score`: scoring 1,000 images x 5,000 captions (36 regions x 1024, captions of 8-20 tokens, shards of
/// 128): we score a fixed fraction of the captions, PyTorch a smaller one, both extrapolated to the full matrix.
/// </summary>
internal static class ScanSuite
{
    private const int Batch = 128, Regions = 36, ImgDim = 2048, Embed = 1024, Vocab = 8481, MinLen = 8, MaxLen = 20;

    public static IEnumerable<BenchResult> Train(BenchContext ctx)
    {
        Prerequisites.Python("torch");
        int threads = ctx.ThreadCounts.Max();
        Parallelism.Threads = threads;
        var config = new ScanConfig { ImgDim = ImgDim, EmbedSize = Embed, VocabSize = Vocab };
        var rng = new Rng(0);
        var model = new ScanModel(config, rng);
        var objective = new HingeObjective(model, new TrainingRecipe { MaxViolation = true });
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
        // Arithmetic of the attention alone: S = V Wᵀ forward, dV and dW backward (3 GEMMs of Bi·R x d x ΣL).
        double words = lengths.Sum();
        double attnFlops = 3 * 2.0 * Batch * Regions * Embed * words;
        Console.Error.WriteLine($"scan-train: ours {ours * 1000:F0} ms/step; running PyTorch...");
        var reference = PythonReference.Run("scan_reference.py", new[] { "train", "--steps", ctx.Quick ? "1" : "3" }, threads);
        double theirs = reference.GetProperty("seconds_per_step").GetDouble();
        yield return new BenchResult("scan-train", $"b{Batch}-r{Regions}x{ImgDim}-e{Embed}-t2i-lse", threads, "s/step", ours,
            "pytorch", theirs, HigherIsBetter: false, new Dictionary<string, object>
            {
                ["attention_gemm_gflop"] = Math.Round(attnFlops / 1e9, 1),
                ["pytorch_peak_rss_mb"] = Math.Round(reference.GetProperty("peak_rss_mb").GetDouble()),
                ["peak_rss_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0),
            });
    }

    public static IEnumerable<BenchResult> Score(BenchContext ctx)
    {
        Prerequisites.Python("torch");
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
        var config = new ScanConfig { ImgDim = 8, EmbedSize = Embed, VocabSize = 10 };
        var model = new ScanModel(config, new Rng(3));
        var output = new float[images * nCaps];
        long before = Process.GetCurrentProcess().WorkingSet64;
        double seconds = ctx.BestSeconds(() =>
        {
            for (int i0 = 0; i0 < images; i0 += shard)
                for (int j0 = 0; j0 < nCaps; j0 += shard)
                    model.ScoreBlock(regionSet, i0, Math.Min(images, i0 + shard), captionSet, j0, Math.Min(nCaps, j0 + shard), output.AsSpan(i0 * nCaps + j0), nCaps);
        }, ctx.Quick ? 1 : 2, 1);
        double pairs = (double)images * nCaps;
        double words = Enumerable.Range(0, nCaps).Sum(c => captionSet.Length(c));
        double gflops = 2.0 * images * Regions * Embed * words / seconds / 1e9;
        Console.Error.WriteLine($"scan-score: ours {pairs / seconds:F0} pairs/s; running PyTorch...");
        var reference = PythonReference.Run("scan_reference.py", new[] { "score", "--caption-fraction", ctx.Quick ? "0.005" : "0.02" }, threads);
        double theirs = reference.GetProperty("pairs_per_second").GetDouble();
        yield return new BenchResult("scan-score", $"{images}x{captions}-r{Regions}-e{Embed}-t2i-lse", threads, "pairs/s", pairs / seconds,
            "pytorch", theirs, HigherIsBetter: true, new Dictionary<string, object>
            {
                ["timed_fraction"] = fraction,
                ["full_matrix_seconds"] = Math.Round(seconds / fraction, 1),
                ["pytorch_full_matrix_seconds"] = Math.Round(reference.GetProperty("extrapolated_full_seconds").GetDouble(), 1),
                ["similarity_gemm_gflops"] = Math.Round(gflops, 1),
                ["peak_fraction_of_fma_peak"] = Math.Round(gflops / (Machine.PeakGflopsPerCore * threads), 3),
                ["peak_rss_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0),
                ["pytorch_peak_rss_mb"] = Math.Round(reference.GetProperty("peak_rss_mb").GetDouble()),
            });
    }

    private static void Normalize(Span<float> v)
    {
        float n = System.Numerics.Tensors.TensorPrimitives.Norm(v);
        System.Numerics.Tensors.TensorPrimitives.Divide(v, n, v);
    }
}
