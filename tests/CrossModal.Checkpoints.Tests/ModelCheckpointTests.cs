using CrossModal.Checkpoints.Tests.Support;
using CrossModal.Models;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// CrossModal's safetensors checkpoint (format version 1): written from an original checkpoint or from a model,
/// it holds the original names, shapes and options, reads back identically, and still reproduces PyTorch's scores.
/// </summary>
public sealed class ModelCheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"crossmodal-ckpt-{Guid.NewGuid():N}");

    public ModelCheckpointTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("vsepp")]
    [InlineData("vsepp_order")]
    [InlineData("scan_i2t_mean")]
    public void Should_WriteTheOriginalNamesShapesAndOptionsToSafetensors(string name)
    {
        var fx = CheckpointFixture.Get(name);
        var entry = CheckpointManifest.Checkpoint($"{name}/{name}.legacy.pth.tar");
        var ckpt = ModelCheckpoint.Load(fx.LegacyPath, cancellationToken: TestContext.Current.CancellationToken);
        string path = Path.Combine(_dir, name + ".safetensors");
        ckpt.Save(path);

        var file = Safetensors.Read(path);
        var expectedNames = entry.StateDicts[0].Select(e => "img_enc." + e.Name).Concat(entry.StateDicts[1].Select(e => "txt_enc." + e.Name)).ToList();
        Assert.Equal(expectedNames, file.Order);
        foreach (var (prefix, dict) in new[] { ("img_enc.", entry.StateDicts[0]), ("txt_enc.", entry.StateDicts[1]) })
            foreach (var (n, shape, _) in dict)
            {
                Assert.Equal(shape, file.Get(prefix + n).Shape);
                Assert.Equal("F32", file.DTypes[prefix + n]);
            }
        Assert.Equal("crossmodal-checkpoint", file.Metadata["format"]);
        Assert.Equal("1", file.Metadata["format_version"]);
        Assert.Equal(fx.Method, file.Metadata["method"]);
        Assert.Equal(entry.Epoch.ToString(), file.Metadata["epoch"]);
        Assert.Equal(entry.Eiters.ToString(), file.Metadata["Eiters"]);
        Assert.Equal(entry.BestRsum, double.Parse(file.Metadata["best_rsum"], System.Globalization.CultureInfo.InvariantCulture));
        var opt = CheckpointOptions.FromJson(file.Metadata["opt"], "opt");
        Assert.Equal(entry.Opt.EnumerateObject().Select(p => p.Name), opt.Keys);
    }

    [Theory]
    [InlineData("vsepp")]
    [InlineData("scan_t2i_lse")]
    [InlineData("scan_i2t_lse")]
    public void Should_ReadItsOwnSafetensorsBackAndScoreLikePyTorch(string name)
    {
        var fx = CheckpointFixture.Get(name);
        var original = ModelCheckpoint.Load(fx.ZipPath, cancellationToken: TestContext.Current.CancellationToken);
        string path = Path.Combine(_dir, name + ".safetensors");
        original.Save(path);
        var back = ModelCheckpoint.Load(path, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(original.Method, back.Method);
        Assert.Equal(original.Epoch, back.Epoch);
        Assert.Equal(original.BestRsum, back.BestRsum);
        Assert.Equal(original.Eiters, back.Eiters);
        Assert.Equal(original.Options.Keys, back.Options.Keys);
        foreach (var k in original.Options.Keys) Assert.True(Equals(original.Options[k], back.Options[k]), k);
        Assert.Equal(original.Image.Names, back.Image.Names);
        Assert.Equal(original.Text.Names, back.Text.Names);
        foreach (var n in original.Text.Names) Assert.Equal(original.Text[n].ToArray(), back.Text[n].ToArray());

        var sims = ModelParityTests.Sims(back.CreateModel(), fx);
        var (want, _) = fx.Sims;
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - sims[i]) <= 1e-4, $"sims[{i}] {sims[i]} vs {want[i]}");
    }

    [Fact]
    public void Should_SaveATrainedModelAndRebuildItExactly()
    {
        var config = new ModelConfig { Model = "scan", ImgDim = 512, EmbedSize = 16, WordDim = 8, VocabSize = 3159, BiGru = true, CrossAttn = "i2t", AggFunc = "Mean", LambdaSoftmax = 4f };
        var model = ModelFactory.Create(config, new Rng(7));
        model.Eval();
        string path = Path.Combine(_dir, "trained.safetensors");
        ModelCheckpoint.FromModel(model, [new("margin", 0.2), new("max_violation", true)], epoch: 2, bestRsum: 401.5).Save(path);

        var back = ModelCheckpoint.Load(path, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(config, back.ToModelConfig());
        Assert.Equal(0.2, back.Options.GetDouble("margin"));
        Assert.True(back.Options.GetBool("max_violation"));
        Assert.Equal(2, back.Epoch);
        var fx = CheckpointFixture.Get("scan_i2t_mean");
        Assert.Equal(ModelParityTests.Sims(model, fx), ModelParityTests.Sims(back.CreateModel(), fx));
    }

    [Fact]
    public void Should_NameTheFileAndEntryWhenWeightsDoNotFitTheOptions()
    {
        var ckpt = ModelCheckpoint.Load(CheckpointFixture.Get("scan_t2i_mean").ZipPath, cancellationToken: TestContext.Current.CancellationToken);
        var wrong = new ModelCheckpoint(ckpt.Method, ckpt.Options.With("embed_size", 64L), ckpt.Image, ckpt.Text, source: "wrong.pth.tar");
        var e = Assert.Throws<InvalidDataException>(() => wrong.CreateModel());
        Assert.StartsWith("wrong.pth.tar: State entry 'img_enc.fc.weight' has shape [32, 512], the model expects [64, 512]", e.Message);
    }

    [Fact]
    public void Should_RefuseASafetensorsFileThatIsNotACrossModalCheckpoint()
    {
        string path = Path.Combine(_dir, "plain.safetensors");
        Safetensors.Write(path, [("w", Tensor.Zeros(2, 2))]);
        var e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("plain.safetensors: safetensors metadata has no 'format'", e.Message);
    }
}
