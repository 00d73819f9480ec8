using CrossModal.Models.Files;
using CrossModal.Models.Naaf;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Models.Tests.Naaf;

/// <summary>
/// NAAF checkpoints written by the original code (tests/fixtures/checkpoints/naaf_*, tools/reference/
/// checkpoint_fixtures.py): recognised, imported with the threshold state from opt, and scoring the 6 f8k test
/// images x 30 captions within 1e-4 of the original evaluation's float64 sims (which use opt.thres_safe); our own
/// files round-trip the state; damaged thresholds and mismatched GloVe tables are refused with one clear message.
/// </summary>
public class NaafCheckpointTests
{
    private static string Ckpt(params string[] parts) => TestData.Fixture(["checkpoints", .. parts]);

    private static Tensor Images()
    {
        var all = Npy.ReadFloat32(TestData.Path("f8k-1k-precomp", "test_ims.npy"));
        int row = all.Length / all.Dim(0);
        var idx = Npy.ReadInt64(Ckpt("inputs", "image_indices.npy")).Values;
        var data = new float[idx.Length * row];
        for (int i = 0; i < idx.Length; i++) all.Data.Slice((int)idx[i] * row, row).CopyTo(data.AsSpan(i * row));
        return Tensor.FromArray(data, idx.Length, all.Dim(1), all.Dim(2));
    }

    private static (int[] Tokens, int[] Lengths, int MaxLength) Captions(string name)
    {
        var (ids, shape) = Npy.ReadInt64(name == "naaf_glove" ? Ckpt("naaf_glove", "caption_ids.npy") : Ckpt("inputs", "caption_ids.npy"));
        var lengths = Npy.ReadInt64(Ckpt("inputs", "caption_lengths.npy")).Values.Select(v => (int)v).ToArray();
        return (ids.Select(v => (int)v).ToArray(), lengths, shape[1]);
    }

    private static double[] Score(MatchingModel model, string name)
    {
        using var scope = TensorScope.Begin();
        var images = new EmbeddingSet(model.EmbedSize);
        var img = model.EncodeImages(Images());
        images.AddBatch(img, Enumerable.Repeat(img.Dim(1), img.Dim(0)).ToArray());
        var (tokens, lengths, max) = Captions(name);
        var captions = new EmbeddingSet(model.EmbedSize);
        captions.AddBatch(model.EncodeCaptions(tokens, lengths, max), lengths);
        var output = new float[images.Count * captions.Count];
        model.ScoreBlock(images, 0, images.Count, captions, 0, captions.Count, output, captions.Count);
        return output.Select(v => (double)v).ToArray();
    }

    private static void AssertSims(double[] ours, string name, string what)
    {
        var (want, _) = Npy.ReadFloat64(Ckpt(name, "sims.npy"));
        Assert.Equal(want.Length, ours.Length);
        double scale = want.Max(Math.Abs);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - ours[i]) <= 1e-4 * Math.Max(Math.Abs(want[i]), 0.01 * scale), $"{what}: sims[{i}] = {ours[i]}, original {want[i]}");
    }

    [Theory]
    [InlineData("naaf_basic", "zip")]
    [InlineData("naaf_basic", "legacy")]
    [InlineData("naaf_glove", "zip")]
    [InlineData("naaf_glove", "legacy")]
    public void Should_ScoreAnOriginalCheckpoint_WithinTolerance_OfItsSims(string name, string format)
    {
        var ckpt = OriginalCheckpoint.Load(Ckpt(name, $"{name}.{format}.pth.tar"), TestContext.Current.CancellationToken);
        Assert.Equal(NaafFamily.FamilyName, ckpt.Family().Name);
        var model = (NaafModel)ckpt.CreateModel();
        Assert.Equal(name == "naaf_glove" ? TextEncoderType.Glove : TextEncoderType.Basic, model.NaafConfig.PrecompEncTextType);
        Assert.Equal(ckpt.Options.GetDouble("thres_safe"), model.Threshold.ThresSafe, 6);
        Assert.Equal(ckpt.Options.GetDouble("thres"), model.Threshold.Thres, 6);
        Assert.Equal(ckpt.Options.GetDouble("stnd_neg"), model.Threshold.StndNeg, 6);
        AssertSims(Score(model, name), name, $"{name}.{format}");
    }

    [Fact]
    public void Should_EvaluateAnOriginalCheckpoint_ThroughTheModelHandle_AsCrossmodalEvalDoes()
    {
        var handle = ModelHandle.Load(Ckpt("naaf_basic", "naaf_basic.zip.pth.tar"), TestData.Path("vocab", "f8k_precomp_vocab.json"), TestContext.Current.CancellationToken);
        var images = Images();
        var imageSet = handle.EncodeImages(images.ToArray(), images.Dim(0), images.Dim(1), images.Dim(2));
        var (tokens, lengths, max) = Captions("naaf_basic");
        var ids = Enumerable.Range(0, lengths.Length).Select(c => tokens.AsSpan(c * max, lengths[c]).ToArray()).ToList();
        var captionSet = handle.EncodeCaptions(ids);
        var output = new float[imageSet.Count * captionSet.Count];
        handle.ScoreBlock(imageSet, 0, imageSet.Count, captionSet, 0, captionSet.Count, output, captionSet.Count);
        AssertSims(output.Select(v => (double)v).ToArray(), "naaf_basic", "ModelHandle");
    }

    [Fact]
    public void Should_KeepTheThresholdState_InOurModelFile()
    {
        var model = (NaafModel)OriginalCheckpoint.Load(Ckpt("naaf_basic", "naaf_basic.zip.pth.tar"), TestContext.Current.CancellationToken).CreateModel();
        using var dir = new TempFolder();
        string path = Path.Combine(dir.Path, "naaf.safetensors");
        ModelFile.Save(path, model, vocabJson: null);
        var content = ModelFile.Read(path);
        foreach (var key in ThresholdState.Keys) Assert.True(content.ModelTensors.ContainsKey(key), key);
        var back = (NaafModel)ModelFile.CreateModel(content);
        Assert.Equal(model.Threshold.ToArray(), back.Threshold.ToArray());
        back.Eval();
        AssertSims(Score(back, "naaf_basic"), "naaf_basic", "safetensors round trip");
    }

    [Fact]
    public void Should_RefuseAThresholdOutsideTheUnitInterval_InAnOriginalCheckpoint()
    {
        var ckpt = OriginalCheckpoint.Load(Ckpt("naaf_basic", "naaf_basic.zip.pth.tar"), TestContext.Current.CancellationToken);
        var bad = ckpt with { Options = ckpt.Options.With("thres_safe", 1.5) };
        var e = Assert.Throws<InvalidDataException>(() => bad.CreateModel());
        Assert.Contains("naaf_basic.zip.pth.tar", e.Message);
        Assert.Contains("thres_safe = 1.5 lies outside [0, 1]", e.Message);
    }

    [Fact]
    public void Should_RefuseAThresholdOutsideTheUnitInterval_InOurModelFile()
    {
        var model = (NaafModel)OriginalCheckpoint.Load(Ckpt("naaf_basic", "naaf_basic.zip.pth.tar"), TestContext.Current.CancellationToken).CreateModel();
        model.Threshold.Thres = -0.25f;
        using var dir = new TempFolder();
        string path = Path.Combine(dir.Path, "bad.safetensors");
        ModelFile.Save(path, model, vocabJson: null);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.CreateModel(ModelFile.Read(path)));
        Assert.Contains(path, e.Message);
        Assert.Contains("thres = -0.25 lies outside [0, 1]", e.Message);
    }

    [Theory]
    [InlineData("glove_840B_f30k_precomp.json.pkl")]
    [InlineData("glove_840B_f30k_precomp.zip.json.pkl")]
    [InlineData("glove_840B_f30k_precomp.npy")]
    public void Should_ReadTheGloveTable_AsNaafDistributesIt(string file)
    {
        var table = GloveTable.Load(TestData.Fixture("naaf", "glove", file), 16, 300);
        var npy = Npy.ReadFloat32(TestData.Fixture("naaf", "glove", "glove_840B_f30k_precomp.npy"));
        Assert.Equal(npy.ToArray(), table.Vectors.ToArray());
        var model = new NaafModel(new NaafConfig { VocabSize = 16, WordDim = 300, EmbedSize = 8, ImgDim = 4, PrecompEncTextType = TextEncoderType.Glove }, new Rng(1));
        model.LoadGlove(table);
        Assert.Contains(model.StateDict(), e => e.Name == "txt_enc.embed.glove.weight" && e.Tensor.ToArray().SequenceEqual(npy.ToArray()));
    }

    [Fact]
    public void Should_RefuseAGloveTable_WhoseRowsDoNotMatchTheVocabulary()
    {
        string path = TestData.Fixture("naaf", "glove", "glove_rows_mismatch.json.pkl");
        var e = Assert.Throws<InvalidDataException>(() => GloveTable.Load(path, 16, 300));
        Assert.Contains(path, e.Message);
        Assert.Contains("15 rows but the vocabulary has 16 words", e.Message);
    }
}
