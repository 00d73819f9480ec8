using System.Text.Json;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Data.Tests;

/// <summary>
/// The precomp layout and the originals' indexing rules, on the real f8k-1k sets (expectations read with numpy and
/// NLTK: tests/fixtures/data/make_f8k_precomp_expectations.py) and on small generated folders.
/// </summary>
public sealed class PrecompDatasetTests
{
    private static readonly Vocabulary F8kVocab = Vocabulary.Load(TestData.Path("vocab", "f8k_precomp_vocab.json"));

    private static float V(int image, int region, int d) => TempPrecomp.Value(image, region, d);

    private static Vocabulary TinyVocab => Vocabulary.FromWords(["<pad>", "<start>", "<end>", "<unk>", "a", "dog", "runs", "."]);

    [Theory]
    [InlineData("f8k-1k-precomp", "train")]
    [InlineData("f8k-1k-precomp", "dev")]
    [InlineData("f8k-1k-precomp", "test")]
    [InlineData("f8k-1k-precomp-global", "train")]
    [InlineData("f8k-1k-precomp-global", "test")]
    public void Should_OpenTheF8kSets_AsNumpyAndNltkSeeThem(string folder, string split)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Fixture("data", "f8k_precomp_expectations.json")));
        var e = doc.RootElement.GetProperty($"{folder}/{split}");
        var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();

        using var data = PrecompDataset.Open(TestData.Path(folder), split, F8kVocab, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(shape[0], data.ImageCount);
        Assert.Equal(shape.Length == 3 ? shape[1] : 0, data.Regions);
        Assert.Equal(shape[^1], data.FeatureDim);
        Assert.Equal(e.GetProperty("captions").GetInt32(), data.CaptionCount);
        Assert.Equal(5, data.ImageDivisor);
        Assert.Equal(e.GetProperty("first_id").GetString(), data.ImageIds![0]);
        Assert.Equal(e.GetProperty("last_id").GetString(), data.ImageIds[^1]);

        var rows = e.GetProperty("probe_rows").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var sums = e.GetProperty("row_sums").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            double sum = 0;
            foreach (float v in data.ImageFeatures(rows[i])) sum += v;
            Assert.Equal(sums[i], sum, sums[i] * 1e-12 + 1e-9);
        }
        Assert.Equal(e.GetProperty("first_values").EnumerateArray().Select(x => (float)x.GetDouble()), data.ImageFeatures(0)[..5].ToArray());
        Assert.Equal(e.GetProperty("last_values").EnumerateArray().Select(x => (float)x.GetDouble()), data.ImageFeatures(data.ImageCount - 1)[^5..].ToArray());

        var probes = e.GetProperty("probe_captions").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var texts = e.GetProperty("caption_texts").EnumerateArray().Select(x => x.GetString()).ToArray();
        var ids = e.GetProperty("caption_ids").EnumerateArray().Select(x => x.EnumerateArray().Select(y => y.GetInt32()).ToArray()).ToArray();
        for (int i = 0; i < probes.Length; i++)
        {
            Assert.Equal(texts[i], data.CaptionText(probes[i]));
            Assert.Equal(ids[i], data.CaptionIds(probes[i]));
            Assert.Equal(probes[i] / 5, data.ImageOf(probes[i]));
        }
        long total = 0;
        for (int k = 0; k < data.CaptionCount; k++) total += data.CaptionLength(k);
        Assert.Equal(e.GetProperty("total_ids").GetInt64(), total);
    }

    [Fact]
    public void Should_MapCaptionKToImageKDiv5()
    {
        using var dir = new TempPrecomp();
        dir.WriteSplit("train", images: 4, regions: 3, dim: 2);
        using var data = dir.Open("train", TinyVocab);
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3 }, Enumerable.Range(0, 20).Select(data.ImageOf));
        // Feature value at [image, region, d] = image + region/100 + d/10000.
        Assert.Equal(new[] { V(2, 0, 0), V(2, 0, 1), V(2, 1, 0), V(2, 1, 1), V(2, 2, 0), V(2, 2, 1) }, data.ImageFeatures(2).ToArray());
        // Caption 3 = "A dog" + 1 x " runs" + " ." -> <start> a dog runs . <end>
        Assert.Equal(new[] { 1, 4, 5, 6, 7, 2 }, data.CaptionIds(3));
    }

    [Fact]
    public void Should_UseDivisor1_WhenThereIsOneFeatureRowPerCaption()
    {
        using var dir = new TempPrecomp();
        dir.WriteFeatures("test", TempPrecomp.Features(10, 0, 4), 10, 4);
        dir.WriteCaptions("test", Enumerable.Range(0, 10).Select(TempPrecomp.Caption));
        using var data = dir.Open("test", TinyVocab);
        Assert.Equal(1, data.ImageDivisor);
        Assert.Equal(10, data.ImageCount);
        Assert.Equal(7, data.ImageOf(7));
        Assert.Equal(0, data.Regions);
        Assert.Equal(new[] { V(7, 0, 0), V(7, 0, 1), V(7, 0, 2), V(7, 0, 3) }, data.ImageFeatures(7).ToArray());
    }

    [Fact]
    public void Should_TruncateCaptions_KeepingTheDivisorOfTheFullFile()
    {
        using var dir = new TempPrecomp();
        dir.WriteSplit("dev", images: 12, regions: 2, dim: 3);
        using var data = dir.Open("dev", TinyVocab, maxCaptions: 25);
        Assert.Equal(25, data.CaptionCount);
        Assert.Equal(5, data.ImageCount);
        Assert.Equal(5, data.ImageDivisor);
        Assert.Equal(12, data.ImageIds!.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.CaptionText(25));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.ImageFeatures(5).Length);
    }

    [Fact]
    public void Should_AcceptImramFeatureName_AndMissingIds()
    {
        using var dir = new TempPrecomp();
        Npy.Write(dir.PathOf("train_feat.npy"), TempPrecomp.Features(2, 0, 3), [2, 3]);
        dir.WriteCaptions("train", Enumerable.Range(0, 10).Select(TempPrecomp.Caption));
        using var data = dir.Open("train", TinyVocab);
        Assert.Null(data.ImageIds);
        Assert.EndsWith("train_feat.npy", data.FeaturesPath);
        Assert.Equal(new[] { "train" }, PrecompDataset.FindSplits(dir.Directory));
    }

    [Fact]
    public void Should_GatherImages_InTheGivenOrder()
    {
        using var dir = new TempPrecomp();
        dir.WriteSplit("train", images: 4, regions: 2, dim: 2);
        using var data = dir.Open("train", TinyVocab);
        using var scope = TensorScope.Begin();
        var t = data.GatherImages([3, 1]);
        Assert.Equal(new[] { 2, 2, 2 }, t.Shape);
        Assert.Equal(new[] { V(3, 0, 0), V(3, 0, 1), V(3, 1, 0), V(3, 1, 1), V(1, 0, 0), V(1, 0, 1), V(1, 1, 0), V(1, 1, 1) }, t.ToArray());
    }
}
