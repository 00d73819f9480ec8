using CrossModal.Models;
using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Training.Tests;

/// <summary>An interrupted and resumed run must end exactly where an uninterrupted run with the same seed ends.</summary>
public class ResumeTests
{
    [Theory]
    [InlineData("vsepp", 0)]
    [InlineData("scan", 3)]
    public void Should_EndBitIdentical_WhenInterruptedMidEpochAndResumed(string modelName, int regions)
    {
        using var data = new TinyPrecomp(regions: regions);
        var vocab = Vocabulary.Load(data.VocabPath);
        var config = new ModelConfig { Model = modelName, EmbedSize = 12, WordDim = 6, BiGru = modelName == "scan" };
        string outA = Path.Combine(data.Directory, "a"), outB = Path.Combine(data.Directory, "b");
        TrainOptions Options(string output) => new() { DataPath = data.Directory, OutputPath = output, BatchSize = 16, NumEpochs = 3, LrUpdate = 2, MaxViolation = true, Seed = 42 };

        using (var a = Trainer.Create(Options(outA), config, vocab)) a.Run(cancellationToken: TestContext.Current.CancellationToken);

        // Interrupt in the middle of the second epoch (8 batches per epoch: 120 captions / 16).
        using (var b = Trainer.Create(Options(outB), config, vocab))
        {
            using var cts = new CancellationTokenSource();
            var progress = new Inline<TrainProgress>(p => { if (p.Epoch == 1 && p.Batch == 3) cts.Cancel(); });
            var result = b.Run(progress, cts.Token);
            Assert.True(result.Interrupted);
            Assert.Single(result.Epochs);
        }
        using (var resumed = Trainer.Resume(Path.Combine(outB, Trainer.CheckpointName)))
        {
            var result = resumed.Run(cancellationToken: TestContext.Current.CancellationToken);
            Assert.False(result.Interrupted);
            Assert.Equal(3, result.Epochs.Count);
        }

        var fa = Safetensors.Read(Path.Combine(outA, Trainer.CheckpointName));
        var fb = Safetensors.Read(Path.Combine(outB, Trainer.CheckpointName));
        Assert.Equal(fa.Order, fb.Order);
        foreach (var name in fa.Order) Assert.Equal(fa.Tensors[name].ToArray(), fb.Tensors[name].ToArray());
        Assert.Equal(fa.Metadata["train_state"], fb.Metadata["train_state"]);
        // The metrics of every epoch agree too (seconds aside).
        static string[] Metrics(string dir) => File.ReadAllLines(Path.Combine(dir, Trainer.MetricsName))
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"seconds\":[0-9.]+", "")).ToArray();
        Assert.Equal(Metrics(outA), Metrics(outB));
    }

    [Fact]
    public void Should_Learn_OnTheTinyMatchingProblem()
    {
        using var data = new TinyPrecomp(trainImages: 40);
        var vocab = Vocabulary.Load(data.VocabPath);
        var config = new ModelConfig { Model = "vsepp", EmbedSize = 16, WordDim = 8 };
        var options = new TrainOptions { DataPath = data.Directory, OutputPath = Path.Combine(data.Directory, "out"), BatchSize = 20, NumEpochs = 8, LearningRate = 2e-3f, Seed = 3 };
        using var trainer = Trainer.Create(options, config, vocab);
        var result = trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
        // Chance rsum on 6 dev images is about 6 * (1/6 + 5/6 + 1) * 100 / ... well below the learned value; captions
        // name colour and shape, so a working trainer separates most images.
        Assert.True(result.Epochs[^1].Loss < result.Epochs[0].Loss, $"loss {result.Epochs[0].Loss} -> {result.Epochs[^1].Loss}");
        Assert.True(result.BestRsum > 400, $"best rsum {result.BestRsum}");
        Assert.True(File.Exists(Path.Combine(options.OutputPath, Trainer.BestName)));
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(options.OutputPath, Trainer.CurveName)));
        Assert.Equal(8, File.ReadAllLines(Path.Combine(options.OutputPath, Trainer.MetricsName)).Length);
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
        var options = new TrainOptions { DataPath = data.Directory, OutputPath = Path.Combine(data.Directory, "out"), BatchSize = 16, NumEpochs = 1 };
        using var trainer = Trainer.Create(options, new ModelConfig { Model = "vsepp", EmbedSize = 8, WordDim = 4 }, vocab);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("NaN", e.Message);
        Assert.Contains("epoch 1, batch 1", e.Message);
    }

    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
