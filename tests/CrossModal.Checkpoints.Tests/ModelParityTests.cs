using CrossModal.Checkpoints.Tests.Support;
using CrossModal.Models;
using CrossModal.Models.Files;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// Issue 6's acceptance: every PyTorch fixture checkpoint (zip and legacy) loads into CrossModal's VSE++ or SCAN
/// model and reproduces the similarity matrix PyTorch computed on real f8k features and captions within 1e-4;
/// the same model written as a CrossModal safetensors checkpoint and read back scores identically.
/// </summary>
public sealed class ModelParityTests
{
    public static TheoryData<string, string> Cases
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var name in CheckpointFixture.Names.Where(n => n != "vsepp_order"))
                foreach (var format in new[] { "zip", "legacy" }) data.Add(name, format);
            data.Add("scan_t2i_lse", "py2legacy");
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Should_ReproducePyTorchsSimilarityMatrixWithin1e4(string name, string format)
    {
        var fx = CheckpointFixture.Get(name);
        var ckpt = OriginalCheckpoint.Load(CheckpointManifest.PathOf($"{name}/{name}.{format}.pth.tar"), TestContext.Current.CancellationToken);
        Assert.Equal(fx.Method, ckpt.Family().Name);
        var sims = Sims((MatchingModel)ckpt.CreateModel(), fx);
        var (want, _) = fx.Sims;
        Assert.Equal(want.Length, sims.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - sims[i]) <= 1e-4, $"{name}.{format}: sims[{i / 30},{i % 30}] = {sims[i]}, PyTorch {want[i]}");
    }

    [Fact]
    public void Should_RefuseTheOrderMeasureRatherThanScoreItAsCosine()
    {
        var ckpt = OriginalCheckpoint.Load(CheckpointFixture.Get("vsepp_order").ZipPath, TestContext.Current.CancellationToken);
        var e = Assert.Throws<InvalidDataException>(() => ckpt.CreateModel());
        Assert.Contains("measure 'order' with use_abs=True is not supported", e.Message);
    }

    /// <summary>Scores the fixture's 6 images against its 30 captions: [6, 30].</summary>
    internal static float[] Sims(MatchingModel model, CheckpointFixture fx)
    {
        using var noGrad = Tensors.Autograd.Tape.NoGrad();
        var images = model.EncodeImages(fx.Images());
        var ids = CheckpointFixture.CaptionIds;
        var lengths = CheckpointFixture.CaptionLengths;
        var captions = model.EncodeCaptions(ids.SelectMany(r => r).ToArray(), lengths, ids[0].Length);
        return model.Scores(images, captions, lengths).ToArray();
    }
}
