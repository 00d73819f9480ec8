using CrossModal.Checkpoints.Tests.Support;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Vsrn;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// VSRN's original checkpoints (tests/fixtures/checkpoints/vsrn_*, written by tools/reference/checkpoint_fixtures.py
/// with the original modules: `model = [img_sd, txt_sd]`, no captioning modules), the torch 1.13 zip file and the
/// file the Python 2.7 / PyTorch 0.4.1 code wrote from the GPU, for both architectures (f30k_precomp with bn,
/// coco_precomp with the region l2norm before the GCN): recognised as VSRN, imported, and the 6 f8k images x 30
/// captions scored within 1e-4 of the original's evaluation (eval mode, float64 sims); both embeddings as well.
/// </summary>
public sealed class VsrnCheckpointTests
{
    public static TheoryData<string, string> Cases
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var name in CheckpointFixture.NamesIn("vsrn_models"))
                foreach (var format in new[] { "zip", "py2legacy" }) data.Add(name, format);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Should_ReproduceTheOriginalsEmbeddingsAndSimilarityMatrixWithin1e4(string name, string format)
    {
        var fx = CheckpointFixture.Get(name, "vsrn_models");
        var ckpt = OriginalCheckpoint.Load(CheckpointManifest.PathOf($"{name}/{name}.{format}.pth.tar"), TestContext.Current.CancellationToken);
        Assert.Equal("vsrn", ckpt.Family().Name);
        var model = (VsrnModel)ckpt.CreateModel();
        Assert.Equal(CheckpointManifest.Root.GetProperty("vsrn_models").GetProperty(name).GetProperty("data_name").GetString(), model.VsrnConfig.DataName);
        Assert.False(model.CanCaption); // train.py does not save the captioning modules
        model.Eval();
        using var noGrad = Tensors.Autograd.Tape.NoGrad();
        var images = model.EncodeImages(fx.Images());
        var ids = CheckpointFixture.CaptionIds;
        var lengths = CheckpointFixture.CaptionLengths;
        var captions = model.EncodeCaptions(ids.SelectMany(r => r).ToArray(), lengths, ids[0].Length);
        Near(fx.ImageEmbeddings.ToArray(), images.ToArray(), $"{name}.{format} img_emb");
        Near(fx.CaptionEmbeddings.ToArray(), captions.ToArray(), $"{name}.{format} cap_emb");
        var sims = model.Scores(images, captions, lengths).ToArray();
        var (want, shape) = fx.Sims;
        Assert.Equal([6, 30], shape);
        Assert.Equal(want.Length, sims.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - sims[i]) <= 1e-4, $"{name}.{format}: sims[{i / 30},{i % 30}] = {sims[i]}, PyTorch {want[i]}");
    }

    private static void Near(float[] want, float[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= 1e-4 * Math.Max(1f, Math.Abs(want[i])), $"{what}[{i}] = {got[i]}, PyTorch {want[i]}");
    }
}
