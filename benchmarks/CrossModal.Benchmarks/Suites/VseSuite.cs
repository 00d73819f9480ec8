using CrossModal.Evaluation;
using CrossModal.Models;
using CrossModal.Data;
using CrossModal.Models.Objectives;
using CrossModal.Models.Vse;
using CrossModal.Text;
using CrossModal.Tensors;
using CrossModal.Tensors.Threading;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// VSE++ next to PyTorch (benchmarks/reference/vsepp_reference.py, same shapes, same run):
/// `vsepp-train`: training throughput in captions/s (batch 128, 4096-d precomputed features as the original VGG19
/// release, GRU 300 -> 1024, joint 1024, captions of 8-20 tokens, max of hinges, clipping, Adam);
/// `vsepp-eval`: evaluation time for 1,000 images x 5,000 captions (encode, similarity matrix, recall ranks).
/// </summary>
internal static class VseSuite
{
    private const int Batch = 128, ImgDim = 4096, Vocab = 8481, MinLen = 8, MaxLen = 20;

    private static (int[] Tokens, int[] Lengths, int MaxLength) Captions(Rng rng, int n)
    {
        var lengths = Enumerable.Range(0, n).Select(_ => MinLen + rng.NextInt(MaxLen - MinLen + 1)).OrderByDescending(l => l).ToArray();
        int maxLen = lengths[0];
        var tokens = new int[n * maxLen];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < lengths[i]; t++) tokens[i * maxLen + t] = 4 + rng.NextInt(Vocab - 4);
        return (tokens, lengths, maxLen);
    }

    public static IEnumerable<BenchResult> Train(BenchContext ctx)
    {
        Prerequisites.Python("torch");
        int threads = ctx.ThreadCounts.Max();
        Parallelism.Threads = threads;
        var model = new VseModel(new VseConfig { ImgDim = ImgDim, VocabSize = Vocab }, new Rng(0));
        var objective = new HingeObjective(model, new TrainingRecipe { MaxViolation = true });
        var rng = new Rng(1);
        var (tokens, lengths, maxLen) = Captions(rng, Batch);
        var features = Tensor.Zeros(Batch, ImgDim);
        rng.Uniform(features.Data, 0f, 1f);
        var indices = Enumerable.Range(0, Batch).ToArray();
        var batch = new Batch(indices, indices, features, tokens, lengths, maxLen);
        double seconds = ctx.BestSeconds(() => objective.Step(batch, new TrainingStep(0, 1)), ctx.Quick ? 3 : 8, 2);
        Console.Error.WriteLine($"vsepp-train: ours {seconds * 1000:F0} ms/step; running PyTorch...");
        var reference = PythonReference.Run("vsepp_reference.py", new[] { "train", "--steps", ctx.Quick ? "2" : "5" }, threads);
        yield return new BenchResult("vsepp-train", $"b{Batch}-img{ImgDim}-gru1024", threads, "captions/s", Batch / seconds,
            "pytorch", reference.GetProperty("captions_per_second").GetDouble(), true,
            new Dictionary<string, object> { ["ms_per_step"] = Math.Round(seconds * 1000, 1), ["pytorch_ms_per_step"] = Math.Round(reference.GetProperty("seconds_per_step").GetDouble() * 1000, 1) });
    }

    public static IEnumerable<BenchResult> Eval(BenchContext ctx)
    {
        Prerequisites.Python("torch");
        int threads = ctx.ThreadCounts.Max();
        Parallelism.Threads = threads;
        const int n = 1000;
        var model = new VseModel(new VseConfig { ImgDim = ImgDim, VocabSize = Vocab }, new Rng(0));
        model.Eval();
        var handle = new ModelHandle(model, Vocabulary.FromWords(Vocabulary.SpecialWords.Concat(Enumerable.Range(0, Vocab - 4).Select(i => $"w{i}"))));
        var rng = new Rng(2);
        var features = Tensor.Zeros(n, ImgDim);
        rng.Uniform(features.Data, 0f, 1f);
        // Captions in batches of 128 sorted by length, as the data loader makes them.
        var captionIds = Enumerable.Range(0, 5 * n / Batch + 1).Select(_ => Captions(rng, Batch))
            .SelectMany(b => Enumerable.Range(0, b.Lengths.Length).Select(i => b.Tokens.AsSpan(i * b.MaxLength, b.Lengths[i]).ToArray()))
            .Take(5 * n).ToList();
        var featureRows = features.ToArray();
        double seconds = ctx.BestSeconds(() =>
        {
            var images = handle.EncodeImages(featureRows, n, 0, ImgDim, batchSize: n);
            var captions = handle.EncodeCaptions(captionIds);
            var sims = SimilarityMatrix.Compute(handle, new EncodedSplit(images, captions));
            Recall.Evaluate(sims, n, 5 * n);
        }, ctx.Quick ? 1 : 3, 1);
        Console.Error.WriteLine($"vsepp-eval: ours {seconds:F2} s; running PyTorch...");
        var reference = PythonReference.Run("vsepp_reference.py", new[] { "eval" }, threads);
        yield return new BenchResult("vsepp-eval", $"{n}x{5 * n}-img{ImgDim}", threads, "s", seconds,
            "pytorch", reference.GetProperty("seconds").GetDouble(), HigherIsBetter: false);
    }
}
