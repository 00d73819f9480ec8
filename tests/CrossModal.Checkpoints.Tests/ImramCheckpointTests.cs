using CrossModal.Checkpoints.Tests.Support;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Imram;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// IMRAM checkpoints as HuiChen24/IMRAM's train_gpus.py writes them (tests/fixtures/checkpoints/imram_*, written by
/// tools/reference/imram_checkpoint_fixtures.py with the original model on CPU: one DataParallel state dict, opt with
/// model_mode, iteration_step, lambda_softmax, no_IMRAM_norm): recognised as IMRAM through the registry, imported,
/// and scoring the 6 f8k test images x 30 captions within 1e-4 of the original evaluation's sims.npy (float64).
/// </summary>
public sealed class ImramCheckpointTests
{
    public static TheoryData<string, string> Cases()
    {
        var d = new TheoryData<string, string>();
        foreach (var name in new[] { "imram_full_k3", "imram_text_k1" })
            foreach (var format in new[] { "zip", "legacy" }) d.Add(name, format);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Should_ReproduceTheOriginalEvaluationWithin1e4(string name, string format)
    {
        var ckpt = OriginalCheckpoint.Load(CheckpointManifest.PathOf($"{name}/{name}.{format}.pth.tar"), TestContext.Current.CancellationToken);
        Assert.Equal(ImramFamily.FamilyName, ckpt.Family().Name);
        var model = (ImramModel)ckpt.CreateModel();
        var config = (ImramConfig)model.Config;
        Assert.Equal(name == "imram_full_k3" ? ImramMode.FullImram : ImramMode.TextImram, config.ModelMode);
        Assert.Equal(name == "imram_full_k3" ? 3 : 1, config.IterationStep);
        Assert.True(config.NoImramNorm);

        var sims = ModelParityTests.Sims(model, Fixture(name));
        var (want, _) = Npy.ReadFloat64(CheckpointManifest.PathOf($"{name}/sims.npy"));
        Assert.Equal(want.Length, sims.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - sims[i]) <= 1e-4, $"{name}.{format}: sims[{i / 30},{i % 30}] = {sims[i]}, original {want[i]}");
    }

    [Fact]
    public void Should_EvaluateThroughTheHandleLikeScores()
    {
        // The evaluation path (ModelHandle: encoded sets, ScoreBlock) gives the training path's scores.
        var path = CheckpointManifest.PathOf("imram_full_k3/imram_full_k3.zip.pth.tar");
        var model = (MatchingModel)OriginalCheckpoint.Load(path, TestContext.Current.CancellationToken).CreateModel();
        var fx = Fixture("imram_full_k3");
        var want = ModelParityTests.Sims(model, fx);
        using var noGrad = Tensors.Autograd.Tape.NoGrad();
        var images = model.EncodeImages(fx.Images());
        var ids = CheckpointFixture.CaptionIds;
        var lengths = CheckpointFixture.CaptionLengths;
        var captions = model.EncodeCaptions(ids.SelectMany(r => r).ToArray(), lengths, ids[0].Length);
        var imageSet = new EmbeddingSet(model.EmbedSize);
        imageSet.AddBatch(images, Enumerable.Repeat(images.Dim(1), images.Dim(0)).ToArray());
        var captionSet = new EmbeddingSet(model.EmbedSize);
        captionSet.AddBatch(captions, lengths);
        var got = new float[6 * 30];
        model.ScoreBlock(imageSet, 0, 6, captionSet, 0, 30, got, 30);
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-6, $"[{i / 30},{i % 30}]: block {got[i]}, scores {want[i]}");
    }

    [Fact]
    public void Should_RefuseAModelModeTheOriginalCannotRun()
    {
        var ckpt = OriginalCheckpoint.Load(CheckpointManifest.PathOf("imram_text_k1/imram_text_k1.zip.pth.tar"), TestContext.Current.CancellationToken);
        var bad = ckpt with { Options = ckpt.Options.With("model_mode", "vse") };
        var e = Assert.Throws<InvalidDataException>(() => bad.CreateModel());
        Assert.Contains("model_mode", e.Message);
        Assert.Contains("vse", e.Message);
        Assert.Contains("imram_text_k1.zip.pth.tar", e.Message);
        var zero = ckpt with { Options = ckpt.Options.With("iteration_step", 0L) };
        e = Assert.Throws<InvalidDataException>(() => zero.CreateModel());
        Assert.Contains("iteration_step is 0", e.Message);
    }

    /// <summary>The 6 images and 30 captions of the shared inputs, with this model's fixture folder.</summary>
    private static CheckpointFixture Fixture(string name) => CheckpointFixture.ForFolder(name, "imram", "f8k-1k-precomp");
}
