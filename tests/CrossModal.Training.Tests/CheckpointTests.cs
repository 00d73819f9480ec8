using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Objectives;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Training.Tests.Support;

namespace CrossModal.Training.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly TempFolder _temp = new("crossmodal-ckpt-");

    private string Dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Should_KeepTheOldFile_WhenACheckpointWriteRunsOutOfSpaceHalfway()
    {
        using var disk = new TmpfsFolder(kilobytes: 64);
        var path = Path.Combine(disk.Directory, "checkpoint.safetensors");
        var model = new VseModel(new VseConfig { ImgDim = 32, EmbedSize = 32, WordDim = 16, VocabSize = 50 }, new Rng(1));
        Checkpoint.Save(path, model, null);
        var before = File.ReadAllBytes(path);
        // 6,656 floats: fits once, but not again beside itself with Adam's 3 tensors per parameter (4x the size).
        Assert.InRange(before.Length, 26 * 1024, 32 * 1024);

        var objective = new HingeObjective(model, new TrainingRecipe());
        var e = Assert.Throws<IOException>(() => Checkpoint.Save(path, model, null, objective));
        Assert.Contains(path, e.Message);
        Assert.Contains("the previous file is unchanged", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(disk.Directory)); // no temporary file left behind
    }

    [Fact]
    public void Should_RoundTripModelOptimizersAndState()
    {
        var path = Path.Combine(Dir, "c.safetensors");
        var config = new ScanConfig { ImgDim = 4, EmbedSize = 6, WordDim = 3, VocabSize = 9, CrossAttn = AttentionDirection.ImageToText, AggFunc = Aggregation.Mean };
        var model = new ScanModel(config, new Rng(2));
        var objective = new HingeObjective(model, new TrainingRecipe { MaxViolation = true });
        objective.Step(Batch(), new TrainingStep(0, 1));
        var state = new TrainState { Epoch = 3, BatchesDone = 2, BestScore = 123.4, EpochShuffleState = [1, 2, 3, 4], EpochTermSums = new() { ["hinge"] = 1.5 } };
        var options = new TrainOptions { DataPath = "d", OutputPath = "o", Recipe = new TrainingRecipe { NumEpochs = 7 } };
        Checkpoint.Save(path, model, "{\"vocab\": 1}", objective, options, state);

        var content = Checkpoint.Load(path);
        Assert.Equal(config, content.File.Config);
        Assert.Equal("{\"vocab\": 1}", content.File.VocabJson);
        Assert.Equal(state.ToJson(), content.State!.ToJson());
        Assert.Equal(7, content.Options!.Recipe.NumEpochs);
        var restored = ModelFile.CreateModel(content.File);
        foreach (var ((n1, a), (n2, b)) in model.StateDict().Zip(restored.StateDict()))
        {
            Assert.Equal(n1, n2);
            Assert.Equal(a.ToArray(), b.ToArray());
        }
        var again = new HingeObjective((MatchingModel)restored, new TrainingRecipe { MaxViolation = true });
        Checkpoint.RestoreOptimizers(content, again);
        var (saved, loaded) = (objective.Optimizers[0].Optimizer, again.Optimizers[0].Optimizer);
        Assert.Equal(1, loaded.StepCount);
        foreach (var ((n1, a), (n2, b)) in saved.StateTensors().Zip(loaded.StateTensors()))
        {
            Assert.Equal(n1, n2);
            Assert.Equal(a.ToArray(), b.ToArray());
        }
        Assert.Contains("img_enc.fc.weight", content.File.ModelTensors.Keys);
        Assert.Contains("txt_enc.rnn.weight_hh_l0_reverse", content.File.ModelTensors.Keys);
        Assert.Contains("adam.exp_avg.img_enc.fc.weight", content.File.TrainingTensors.Keys);
    }

    [Fact]
    public void Should_NameTheOptimizer_WhenACheckpointLacksItsState()
    {
        var path = Path.Combine(Dir, "model-only.safetensors");
        var model = new VseModel(new VseConfig { ImgDim = 4, EmbedSize = 6, WordDim = 3, VocabSize = 9 }, new Rng(1));
        Checkpoint.Save(path, model, null);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.RestoreOptimizers(Checkpoint.Load(path), new HingeObjective(model, new TrainingRecipe())));
        Assert.Contains(path, e.Message);
        Assert.Contains("no state for optimizer 'adam'", e.Message);
    }

    [Fact]
    public void Should_NameTheFile_WhenItIsNotACheckpoint()
    {
        var path = Path.Combine(Dir, "plain.safetensors");
        Safetensors.Write(path, new[] { ("x", Tensor.Zeros(2)) });
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a CrossModal checkpoint", e.Message);
    }

    /// <summary>Three captions of lengths 4, 3, 3 with their 2-region images (4-d features).</summary>
    private static Batch Batch()
    {
        var rng = new Rng(5);
        var images = Tensor.Zeros(3, 2, 4);
        rng.Uniform(images.Data, 0f, 1f);
        int[] tokens = [1, 5, 6, 2, 1, 7, 2, 0, 1, 8, 2, 0];
        return new Batch([0, 1, 2], [0, 1, 2], images, tokens, [4, 3, 3], 4);
    }
}
