using CrossModal.Models;
using CrossModal.Models.Naaf;
using CrossModal.Models.Objectives;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Models.Vsrn;
using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Text;
using CrossModal.Training.Tests.Support;

namespace CrossModal.Training.Tests;

/// <summary>An interrupted and resumed run must end exactly where an uninterrupted run with the same seed ends.</summary>
public class ResumeTests
{
    private static TrainOptions Options(TinyPrecomp data, string output) => new()
    {
        DataPath = data.Directory, OutputPath = Path.Combine(data.Directory, output), Seed = 42,
        Recipe = new TrainingRecipe { BatchSize = 16, NumEpochs = 3, LrUpdate = 2, MaxViolation = true },
    };

    private static ModelConfig Config(string family) => family switch
    {
        "vsepp" => new VseConfig { EmbedSize = 12, WordDim = 6 },
        "scan" => new ScanConfig { EmbedSize = 12, WordDim = 6 },
        // The captioning branch with both dropouts (drawn from the model's random state) and BatchNorm statistics.
        "vsrn" => new VsrnConfig { EmbedSize = 12, WordDim = 6, DimHidden = 8, DimWord = 5, MaxLen = 8, InputDropoutP = 0.2f },
        "naaf" => new NaafConfig { EmbedSize = 12, WordDim = 6 },
        _ => new DropoutConfig { EmbedSize = 12, WordDim = 6, Dropout = 0.5f },
    };

    [Theory]
    [InlineData("vsepp", 0)]
    [InlineData("scan", 3)]
    [InlineData("vsrn", 3)]
    [InlineData("naaf", 3)]
    [InlineData(DropoutFamily.FamilyName, 0)]
    public void Should_EndBitIdentical_WhenInterruptedMidEpochAndResumed(string family, int regions)
    {
        using var data = new TinyPrecomp(regions: regions);
        var vocab = Vocabulary.Load(data.VocabPath);
        var (a, b) = (Options(data, "a"), Options(data, "b"));
        Train(a, Config(family), vocab);
        InterruptAndResume(b, Config(family), vocab);
        AssertSameRun(a.OutputPath, b.OutputPath);
    }

    [Fact]
    public void Should_WriteNaafsThresholdTrajectory_IntoMetrics()
    {
        // NAAF's objective reports the threshold state after each step as terms: metrics.jsonl has their epoch means.
        using var data = new TinyPrecomp(regions: 3);
        var vocab = Vocabulary.Load(data.VocabPath);
        var options = Options(data, "naaf") with { Recipe = new TrainingRecipe { BatchSize = 16, NumEpochs = 2, MaxViolation = true } };
        Train(options, Config("naaf"), vocab);
        var lines = File.ReadAllLines(Path.Combine(options.OutputPath, Trainer.MetricsName));
        Assert.Equal(2, lines.Length);
        foreach (var line in lines)
        {
            var terms = System.Text.Json.Nodes.JsonNode.Parse(line)!["terms"]!.AsObject();
            foreach (var key in new[] { "hinge", "thres", "thres_safe", "mean_pos", "stnd_pos", "mean_neg", "stnd_neg", "thres_updates" }) Assert.True(terms.ContainsKey(key), $"{key} missing in {line}");
        }
    }

    [Fact]
    public void Should_DrawOtherDropoutMasks_WhenTheModelsRandomStateIsNotRestored()
    {
        // The negative control of the dropout case above: resuming with another state of the model's generator
        // changes the weights, so the exact resume really depends on saving that state.
        using var data = new TinyPrecomp();
        var vocab = Vocabulary.Load(data.VocabPath);
        var (a, b) = (Options(data, "a"), Options(data, "b"));
        Train(a, Config(DropoutFamily.FamilyName), vocab);
        InterruptAndResume(b, Config(DropoutFamily.FamilyName), vocab, tamper: state => state with { ModelRngState = new Tensors.Rng(7).State });
        var fa = Safetensors.Read(Path.Combine(a.OutputPath, Trainer.CheckpointName));
        var fb = Safetensors.Read(Path.Combine(b.OutputPath, Trainer.CheckpointName));
        Assert.NotEqual(fa.Tensors["img_enc.fc.weight"].ToArray(), fb.Tensors["img_enc.fc.weight"].ToArray());
    }

    private static void Train(TrainOptions options, ModelConfig config, Vocabulary vocab)
    {
        using var trainer = Trainer.Create(options, config, vocab);
        trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <summary>Interrupts in the middle of the second epoch (8 batches per epoch: 120 captions / 16), then resumes.</summary>
    private static void InterruptAndResume(TrainOptions options, ModelConfig config, Vocabulary vocab, Func<TrainState, TrainState>? tamper = null)
    {
        using (var b = Trainer.Create(options, config, vocab))
        {
            using var cts = new CancellationTokenSource();
            var progress = new Inline<TrainProgress>(p => { if (p.Epoch == 1 && p.Batch == 3) cts.Cancel(); });
            var result = b.Run(progress, cts.Token);
            Assert.True(result.Interrupted);
            Assert.Single(result.Epochs);
        }
        string checkpoint = Path.Combine(options.OutputPath, Trainer.CheckpointName);
        if (tamper is not null)
        {
            var file = Safetensors.Read(checkpoint);
            var metadata = new Dictionary<string, string>(file.Metadata) { ["train_state"] = tamper(TrainState.FromJson(file.Metadata["train_state"], checkpoint)).ToJson() };
            Safetensors.Write(checkpoint, file.Order.Select(n => (n, file.Tensors[n])), metadata);
        }
        using var resumed = Trainer.Resume(checkpoint);
        var done = resumed.Run(cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(done.Interrupted);
        Assert.Equal(3, done.Epochs.Count);
    }

    private static void AssertSameRun(string outA, string outB) => RunComparison.AssertSameRun(outA, outB);

    [Fact]
    public void Should_Learn_OnTheTinyMatchingProblem()
    {
        using var data = new TinyPrecomp(trainImages: 40);
        var vocab = Vocabulary.Load(data.VocabPath);
        var config = new VseConfig { EmbedSize = 16, WordDim = 8 };
        var options = new TrainOptions
        {
            DataPath = data.Directory, OutputPath = Path.Combine(data.Directory, "out"), Seed = 3,
            Recipe = new TrainingRecipe { BatchSize = 20, NumEpochs = 8, LearningRate = 2e-3f },
        };
        using var trainer = Trainer.Create(options, config, vocab);
        var result = trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.Epochs[^1].Loss < result.Epochs[0].Loss, $"loss {result.Epochs[0].Loss} -> {result.Epochs[^1].Loss}");
        double chance = ChanceRsum(images: 6, captionsPerImage: 5);
        Assert.True(result.BestScore > chance + 0.5 * (600 - chance), $"best rsum {result.BestScore:F1}; chance {chance:F1}");
        Assert.True(File.Exists(Path.Combine(options.OutputPath, Trainer.BestName)));
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(options.OutputPath, Trainer.CurveName)));
        Assert.Equal(8, File.ReadAllLines(Path.Combine(options.OutputPath, Trainer.MetricsName)).Length);
    }

    /// <summary>
    /// The expected rsum of a random ranking: t2i ranks the true image uniformly among n, so R@K = min(K, n)/n;
    /// i2t ranks an image by the best of its c captions among n·c, so R@K = 1 − C(nc − K, c) / C(nc, c).
    /// </summary>
    private static double ChanceRsum(int images, int captionsPerImage)
    {
        static double Choose(int n, int k) => k < 0 || k > n ? 0 : Enumerable.Range(0, k).Aggregate(1.0, (acc, i) => acc * (n - i) / (i + 1));
        int total = images * captionsPerImage;
        double sum = 0;
        foreach (int k in new[] { 1, 5, 10 })
            sum += 100.0 * Math.Min(k, images) / images + 100.0 * (1 - Choose(total - k, captionsPerImage) / Choose(total, captionsPerImage));
        return sum;
    }

    [Fact]
    public void Should_StopWithAClearMessage_WhenTheLossIsNaN()
    {
        using var data = new TinyPrecomp();
        // Features near float.MaxValue overflow in the projection: the loss becomes NaN.
        var f = Npy.ReadFloat32(Path.Combine(data.Directory, "train_ims.npy"));
        f.Data.Fill(3e38f);
        Npy.Write(Path.Combine(data.Directory, "train_ims.npy"), f);
        var vocab = Vocabulary.Load(data.VocabPath);
        var options = new TrainOptions { DataPath = data.Directory, OutputPath = Path.Combine(data.Directory, "out"), Recipe = new TrainingRecipe { BatchSize = 16, NumEpochs = 1 } };
        using var trainer = Trainer.Create(options, new VseConfig { EmbedSize = 8, WordDim = 4 }, vocab);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("NaN", e.Message);
        Assert.Contains("epoch 1, batch 1", e.Message);
    }

    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
