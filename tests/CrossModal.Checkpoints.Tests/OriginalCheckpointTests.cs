using CrossModal.Checkpoints.Tests.Support;
using CrossModal.Models;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Models.Attention;
using CrossModal.Models.Encoders;
using CrossModal.Models.Files;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// An imported original checkpoint stored as CrossModal's safetensors checkpoint keeps the original tensor names and
/// shapes and scores like PyTorch after the round trip; the evaluation loader opens the .pth.tar directly.
/// </summary>
public sealed class OriginalCheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"crossmodal-ckpt-{Guid.NewGuid():N}");

    public OriginalCheckpointTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("vsepp")]
    [InlineData("vse0")]
    [InlineData("scan_i2t_mean")]
    public void Should_StoreTheOriginalNamesAndShapesInSafetensors(string name)
    {
        var fx = CheckpointFixture.Get(name);
        var entry = CheckpointManifest.Checkpoint($"{name}/{name}.legacy.pth.tar");
        var model = OriginalCheckpoint.Load(fx.LegacyPath, TestContext.Current.CancellationToken).CreateModel();
        string path = Path.Combine(_dir, name + ".safetensors");
        ModelFile.Save(path, model, vocabJson: null);

        var file = Safetensors.Read(path);
        var expected = entry.StateDicts[0].Select(e => ("img_enc." + e.Name, e.Shape)).Concat(entry.StateDicts[1].Select(e => ("txt_enc." + e.Name, e.Shape))).ToList();
        Assert.Equal(expected.Select(e => e.Item1).Order(), file.Order.Order());
        foreach (var (n, shape) in expected)
        {
            Assert.Equal(shape, file.Get(n).Shape);
            Assert.Equal("F32", file.DTypes[n]);
        }
    }

    [Theory]
    [InlineData("vsepp")]
    [InlineData("scan_t2i_lse")]
    [InlineData("scan_i2t_lse")]
    public void Should_ScoreLikePyTorchAfterTheSafetensorsRoundTrip(string name)
    {
        var fx = CheckpointFixture.Get(name);
        var ckpt = OriginalCheckpoint.Load(fx.ZipPath, TestContext.Current.CancellationToken);
        string path = Path.Combine(_dir, name + ".safetensors");
        ModelFile.Save(path, ckpt.CreateModel(), vocabJson: null);
        var back = ModelFile.CreateModel(ModelFile.Read(path));
        Assert.Equal(ckpt.Import().Config, back.Config);
        var sims = ModelParityTests.Sims((MatchingModel)back, fx);
        var (want, _) = fx.Sims;
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - sims[i]) <= 1e-4, $"sims[{i}] {sims[i]} vs {want[i]}");
    }

    [Fact]
    public void Should_OpenAPyTorchCheckpointForEvaluationWithAVocabulary()
    {
        var fx = CheckpointFixture.Get("scan_t2i_mean");
        var vocab = CrossModal.Tests.TestData.Path("vocab", "f8k_precomp_vocab.json");
        var model = ModelHandle.Load(fx.LegacyPath, vocab, TestContext.Current.CancellationToken);
        Assert.Equal("scan", model.Config.Model);
        Assert.Equal(3159, model.Vocabulary.Count);
        var e = Assert.Throws<InvalidDataException>(() => ModelHandle.Load(fx.LegacyPath, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("carries no vocabulary; pass --vocab", e.Message);
    }

    [Fact]
    public void Should_MapEveryOriginalOptionOntoTheModelConfig()
    {
        var config = OriginalCheckpoint.Load(CheckpointFixture.Get("scan_i2t_lse").ZipPath, TestContext.Current.CancellationToken).Import().Config;
        var expected = new ScanConfig
        {
            ImgDim = 512, EmbedSize = 32, WordDim = 12, VocabSize = 3159, NumLayers = 1, BiGru = true,
            CrossAttn = AttentionDirection.ImageToText, AggFunc = Aggregation.LogSumExp, LambdaLse = 5f, LambdaSoftmax = 4f,
            RawFeatureNorm = RawFeatureNorm.ClippedL2Norm, PrecompEncType = ImageEncoderType.Basic,
        };
        Assert.Equal(expected, config);
        Assert.True(((VseConfig)OriginalCheckpoint.Load(CheckpointFixture.Get("vse0").ZipPath, TestContext.Current.CancellationToken).Import().Config).NoImgNorm);
    }

    [Fact]
    public void Should_NameTheFileAndEntryWhenWeightsDoNotFitTheOptions()
    {
        var ckpt = OriginalCheckpoint.Load(CheckpointFixture.Get("scan_t2i_mean").ZipPath, TestContext.Current.CancellationToken);
        var wrong = ckpt with { Options = ckpt.Options.With("embed_size", 64L), Source = "wrong.pth.tar" };
        var e = Assert.Throws<InvalidDataException>(() => wrong.CreateModel());
        Assert.StartsWith("wrong.pth.tar: State entry 'img_enc.fc.weight' has shape [32, 512], the model expects [64, 512]", e.Message);
    }

    [Fact]
    public void Should_TellSafetensorsFromPyTorchFilesEvenWhenTheHeaderLengthStartsWith0x80()
    {
        // A header of 0x380 bytes starts the file with 0x80, like a pickle; the '{' at byte 8 decides.
        string path = Path.Combine(_dir, "x.safetensors");
        var metadata = new Dictionary<string, string> { ["pad"] = "" };
        for (int pad = 0; pad < 2048; pad++)
        {
            metadata["pad"] = new string('x', pad);
            Safetensors.Write(path, [("w", Tensor.Zeros(1))], metadata);
            if (File.ReadAllBytes(path)[0] == 0x80) break;
        }
        Assert.Equal(0x80, File.ReadAllBytes(path)[0]);
        Assert.False(TorchCheckpoint.IsTorchCheckpoint(path));
        var e = Assert.Throws<InvalidDataException>(() => Ckpt.Load(path));
        Assert.Contains("a safetensors file, not a PyTorch checkpoint", e.Message);
        Assert.True(TorchCheckpoint.IsTorchCheckpoint(CheckpointFixture.Get("vsepp").LegacyPath));
        Assert.True(TorchCheckpoint.IsTorchCheckpoint(CheckpointFixture.Get("vsepp").ZipPath));
    }
}
