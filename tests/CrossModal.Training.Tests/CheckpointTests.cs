using CrossModal.Models;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Optim;

namespace CrossModal.Training.Tests;

public class CheckpointTests
{
    private static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), $"crossmodal-ckpt-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public void Should_KeepTheOldFile_WhenAWriteFailsHalfway()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "checkpoint.safetensors");
        var model = ModelFactory.Create(new ModelConfig { Model = "vsepp", ImgDim = 4, EmbedSize = 6, WordDim = 3, VocabSize = 9 }, new Rng(1));
        Checkpoint.Save(path, model, null);
        var before = File.ReadAllBytes(path);
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100]);
            throw new IOException("disk full (simulated)");
        }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir)); // no temporary file left behind
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Should_RoundTripModelOptimizerAndState()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "c.safetensors");
        var config = new ModelConfig { Model = "scan", ImgDim = 4, EmbedSize = 6, WordDim = 3, VocabSize = 9, BiGru = true, CrossAttn = "i2t", AggFunc = "Mean" };
        var model = ModelFactory.Create(config, new Rng(2));
        var adam = new Adam(model.NamedParameters(), 1e-3f);
        foreach (var (_, p) in model.NamedParameters()) { p.GradBuffer(out _).Fill(0.5f); }
        adam.Step();
        var state = new TrainState { Epoch = 3, BatchesDone = 2, BestRsum = 123.4, EpochShuffleState = new ulong[] { 1, 2, 3, 4 } };
        var options = new TrainOptions { DataPath = "d", OutputPath = "o", NumEpochs = 7 };
        Checkpoint.Save(path, model, "{\"vocab\": 1}", adam, options, state);

        var content = Checkpoint.Load(path);
        Assert.Equal(config, content.Config);
        Assert.Equal("{\"vocab\": 1}", content.VocabJson);
        Assert.Equal(state.ToJson(), content.State!.ToJson());
        Assert.Equal(7, content.Options!.NumEpochs);
        var restored = Checkpoint.CreateModel(content);
        foreach (var ((n1, a), (n2, b)) in model.StateDict().Zip(restored.StateDict()))
        {
            Assert.Equal(n1, n2);
            Assert.Equal(a.ToArray(), b.ToArray());
        }
        var adam2 = new Adam(restored.NamedParameters(), 1e-3f);
        adam2.LoadState(content.OptimizerTensors, content.OptimizerStep);
        Assert.Equal(1, adam2.StepCount);
        Assert.Contains("img_enc.fc.weight", content.ModelTensors.Keys);
        Assert.Contains("txt_enc.rnn.weight_hh_l0_reverse", content.ModelTensors.Keys);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Should_NameTheFile_WhenItIsNotACheckpoint()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "plain.safetensors");
        Safetensors.Write(path, new[] { ("x", Tensor.Zeros(2)) });
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a CrossModal checkpoint", e.Message);
        Directory.Delete(dir, true);
    }
}
