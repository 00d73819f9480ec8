using CrossModal.Distributed;
using CrossModal.Distributed.InProcess;
using CrossModal.Models;
using CrossModal.Models.Objectives;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Training.Tests;

/// <summary>
/// The trainer with several ranks (threads of this process): the run follows one process's loss curve and ends at its
/// weights within the bound of <see cref="SummationOrder"/>; only rank 0 writes; a run resumes with another number
/// of ranks; a failure on one rank ends every rank with its message and keeps what was written.
/// </summary>
public class DataParallelTrainingTests
{
    private const int BatchSize = 16;

    private static TrainOptions Options(TinyPrecomp data, string output, int epochs = 2) => new()
    {
        DataPath = data.Directory, OutputPath = Path.Combine(data.Directory, output), Seed = 42,
        // 120 training captions: 8 batches an epoch, the last of 8; ValStep 1 records the loss after every step.
        Recipe = new TrainingRecipe { BatchSize = BatchSize, NumEpochs = epochs, MaxViolation = true, LearningRate = 1e-3f, ValStep = 1 },
    };

    private static ModelConfig Config(string family) => family switch
    {
        "scan" => new ScanConfig { EmbedSize = 12, WordDim = 6 },
        "vsrn" => new CrossModal.Models.Vsrn.VsrnConfig { EmbedSize = 12, WordDim = 6, DimHidden = 8, DimWord = 6 },
        _ => new VseConfig { EmbedSize = 12, WordDim = 6 },
    };

    private static TrainResult[] Train(int ranks, Func<int, TrainOptions> options, ModelConfig config, Vocabulary vocab, Action<int, Trainer>? setup = null,
        CancellationToken[]? tokens = null)
    {
        var results = new TrainResult[ranks];
        InProcessWorld.RunAll(ranks, c =>
        {
            using var trainer = Trainer.Create(options(c.Rank), config, vocab, c);
            setup?.Invoke(c.Rank, trainer);
            results[c.Rank] = trainer.Run(cancellationToken: tokens?[c.Rank] ?? TestContext.Current.CancellationToken);
        });
        return results;
    }

    private static void AssertCloseRuns(string oneOut, string manyOut, IReadOnlyList<EpochRecord> one, IReadOnlyList<EpochRecord> many, int regions)
    {
        // The longest tiny caption is 6 tokens ("<start> the square is red <end>"): n = 16 x max(6, regions).
        double tolerance = SummationOrder.Training(SummationOrder.Terms(BatchSize, 6, regions));
        Assert.Equal(one.Count, many.Count);
        for (int i = 0; i < one.Count; i++)
            Assert.True(Math.Abs(many[i].Loss - one[i].Loss) <= tolerance * Math.Abs(one[i].Loss),
                $"record {i + 1}: loss {many[i].Loss:R}, one process {one[i].Loss:R}");
        var a = Safetensors.Read(Path.Combine(oneOut, Trainer.CheckpointName));
        var b = Safetensors.Read(Path.Combine(manyOut, Trainer.CheckpointName));
        long steps = one.Count; // one record per step
        // A VSRN Rs_GCN block's W.0 bias feeds a BatchNorm in training mode, which subtracts the batch mean: its gradient
        // is 0 in exact arithmetic and rounding noise in both runs, which Adam turns into steps of about lr in the noise's
        // direction. No summation-order bound applies to it (in PyTorch too, it wanders), nor to the BatchNorm's running
        // mean, which averages batch means that carry it (DataParallelStepTests checks both after one step); the other
        // weights and buffers are compared.
        static bool Wanders(string name) => name.EndsWith(".W.0.bias", StringComparison.Ordinal) || name.EndsWith(".W.1.running_mean", StringComparison.Ordinal);
        foreach (var name in a.Order.Where(n => !n.StartsWith("optimizer.", StringComparison.Ordinal) && !Wanders(n)))
        {
            var wa = a.Tensors[name].Data;
            double d = SummationOrder.Distance(b.Tensors[name].Data, wa) / (1e-3 * steps * Math.Sqrt(wa.Length));
            Assert.True(d <= tolerance, $"{name}: the weights differ by {d:E2} of Adam's distance, more than {tolerance:E2}");
        }
    }

    [Theory]
    [InlineData("vsepp", 0, 2)]
    [InlineData("vsepp", 0, 3)]
    [InlineData("scan", 3, 2)]
    [InlineData("vsrn", 3, 2)]
    public void Should_FollowTheOneProcessLossCurve_AndEndAtItsWeights(string family, int regions, int ranks)
    {
        using var data = new TinyPrecomp(regions: regions);
        var vocab = Vocabulary.Load(data.VocabPath);
        var one = Train(1, _ => Options(data, "one"), Config(family), vocab)[0];
        // Rank 1 (and 2) get an output folder of their own: it must stay unwritten.
        var many = Train(ranks, r => Options(data, r == 0 ? "many" : $"rank{r}"), Config(family), vocab);
        AssertCloseRuns(Path.Combine(data.Directory, "one"), Path.Combine(data.Directory, "many"), one.Epochs, many[0].Epochs, regions);
        for (int r = 1; r < ranks; r++)
        {
            Assert.False(Directory.Exists(Path.Combine(data.Directory, $"rank{r}")), $"rank {r} wrote its output folder");
            Assert.Equal(many[0].Epochs.Select(e => e.Loss), many[r].Epochs.Select(e => e.Loss));
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1, "vsrn")]
    public void Should_Resume_WithAnotherNumberOfRanks(int resumeRanks, string family = "vsepp")
    {
        // VSRN: its caption dropout masks come from the model's random state per global batch, so they too continue
        // unchanged on another number of ranks.
        int regions = family == "vsrn" ? 3 : 0;
        using var data = new TinyPrecomp(regions: regions);
        var vocab = Vocabulary.Load(data.VocabPath);
        var whole = Train(2, _ => Options(data, "whole"), Config(family), vocab)[0];
        // Interrupted in the second epoch: only rank 0's token fires; the ranks agree to stop at the same batch.
        using var stop = new CancellationTokenSource();
        var parts = Train(2, _ => Options(data, "parts"), Config(family), vocab,
            (rank, t) => t.EpochCompleted = r => { if (rank == 0 && r.Iteration == 11) stop.Cancel(); },
            new[] { stop.Token, TestContext.Current.CancellationToken });
        Assert.All(parts, p => Assert.True(p.Interrupted));
        string checkpoint = Path.Combine(data.Directory, "parts", Trainer.CheckpointName);
        InProcessWorld.RunAll(resumeRanks, c =>
        {
            using var resumed = Trainer.Resume(checkpoint, ranks: c);
            Assert.False(resumed.Run(cancellationToken: TestContext.Current.CancellationToken).Interrupted);
        });
        string wholeOut = Path.Combine(data.Directory, "whole"), partsOut = Path.Combine(data.Directory, "parts");
        var records = EpochRecords(partsOut);
        if (resumeRanks == 2)
        {
            // The same ranks: the same run, bit for bit.
            var fa = Safetensors.Read(Path.Combine(wholeOut, Trainer.CheckpointName));
            var fb = Safetensors.Read(Path.Combine(partsOut, Trainer.CheckpointName));
            foreach (var name in fa.Order) Assert.Equal(fa.Tensors[name].ToArray(), fb.Tensors[name].ToArray());
        }
        AssertCloseRuns(wholeOut, partsOut, whole.Epochs, records, regions);
    }

    private static List<EpochRecord> EpochRecords(string output) => File.ReadAllLines(Path.Combine(output, Trainer.MetricsName))
        .Select(l => EpochRecord.FromJson(System.Text.Json.Nodes.JsonNode.Parse(l)!, n => Evaluation.RetrievalMetrics.FromJson(n))).ToList();

    [Fact]
    public void Should_EndEveryRankWithTheFailingRanksMessage_WhenOneRanksDataIsMissing()
    {
        using var data = new TinyPrecomp();
        var vocab = Vocabulary.Load(data.VocabPath);
        var errors = InProcessWorld.Run(2, c =>
        {
            var options = Options(data, "out") with { DataPath = c.Rank == 1 ? Path.Combine(data.Directory, "missing") : data.Directory };
            using var trainer = Trainer.Create(options, Config("vsepp"), vocab, c);
            trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
        });
        foreach (var e in errors)
        {
            var f = Assert.IsType<RankFailedException>(e);
            Assert.Equal(1, f.FailedRank);
            Assert.StartsWith("rank 1: ", f.Message);
            Assert.Contains("missing", f.Message);
        }
        Assert.False(Directory.Exists(Path.Combine(data.Directory, "out")));
    }

    [Fact]
    public void Should_EndEveryRank_WhenOneRankFailsMidRun_KeepingWhatWasWritten()
    {
        using var data = new TinyPrecomp();
        var vocab = Vocabulary.Load(data.VocabPath);
        var options = Options(data, "out") with { Recipe = Options(data, "out").Recipe with { ValStep = 0 } };
        var errors = InProcessWorld.Run(2, c =>
        {
            using var trainer = Trainer.Create(options, Config("vsepp"), vocab, c);
            long steps = 0;
            // Rank 1 fails in the middle of the second epoch, after its gradients were summed.
            trainer.AfterBackward = _ => { if (c.Rank == 1 && ++steps == 12) throw new IOException("rank 1's disk failed"); };
            trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
        });
        Assert.Equal("rank 1's disk failed", Assert.IsType<IOException>(errors[1]).Message);
        Assert.Equal("rank 1: rank 1's disk failed", Assert.IsType<RankFailedException>(errors[0]).Message);
        // The first epoch's checkpoint and metrics are intact.
        string output = options.OutputPath;
        var state = Checkpoint.Load(Path.Combine(output, Trainer.CheckpointName)).State!;
        Assert.Equal(1, state.Epoch);
        Assert.Single(File.ReadAllLines(Path.Combine(output, Trainer.MetricsName)));
    }

    [Fact]
    public void Should_StopEveryRankAtTheSameBatch_WhenTheLossIsNaN()
    {
        using var data = new TinyPrecomp();
        var f = Npy.ReadFloat32(Path.Combine(data.Directory, "train_ims.npy"));
        f.Data.Fill(3e38f);
        Npy.Write(Path.Combine(data.Directory, "train_ims.npy"), f);
        var vocab = Vocabulary.Load(data.VocabPath);
        var errors = InProcessWorld.Run(2, c =>
        {
            using var trainer = Trainer.Create(Options(data, "out"), Config("vsepp"), vocab, c);
            trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
        });
        // The loss is the global batch's on every rank, so every rank sees the NaN at the same batch.
        Assert.All(errors, e => Assert.Contains("epoch 1, batch 1", Assert.IsType<TrainingDivergedException>(e).Message));
    }

    [Fact]
    public void Should_RefuseABatchSmallerThanTheRanks()
    {
        using var data = new TinyPrecomp();
        var vocab = Vocabulary.Load(data.VocabPath);
        // 120 captions in batches of 14: the last batch holds 8 captions, fewer than 9 ranks.
        var errors = InProcessWorld.Run(9, c => Trainer.Create(Options(data, "out") with { Recipe = new TrainingRecipe { BatchSize = 14 } }, Config("vsepp"), vocab, c).Dispose());
        Assert.All(errors, e => Assert.Contains("gives a batch of 8, fewer than the 9 ranks", Assert.IsType<RankFailedException>(e).Message));
    }
}
