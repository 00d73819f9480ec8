using System.Text;
using CrossModal.Tensors.IO;
using CrossModal.Text;

namespace CrossModal.Data.Tests;

/// <summary>Every broken precomp folder gives one clear error that names the file and what was expected and found.</summary>
public sealed class PrecompValidationTests
{
    private static Vocabulary Vocab => Vocabulary.FromWords(["<pad>", "<start>", "<end>", "<unk>", "a", "dog"]);

    private static T Fails<T>(TempPrecomp dir, string split = "train") where T : Exception =>
        Assert.Throws<T>(() => dir.Open(split, Vocab).Dispose());

    [Fact]
    public void Should_SayBothCounts_WhenCaptionsAreNot5xImages()
    {
        using var dir = new TempPrecomp();
        dir.WriteFeatures("train", TempPrecomp.Features(4, 2, 3), 4, 2, 3);
        dir.WriteCaptions("train", Enumerable.Range(0, 19).Select(TempPrecomp.Caption));
        var e = Fails<InvalidDataException>(dir);
        Assert.Contains(dir.PathOf("train_caps.txt"), e.Message);
        Assert.Contains("19 captions for 4 images", e.Message);
        Assert.Contains("5 x 4 = 20", e.Message);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+Inf")]
    [InlineData(float.NegativeInfinity, "-Inf")]
    public void Should_NameTheImageRow_WhenFeaturesAreNotFinite(float bad, string name)
    {
        using var dir = new TempPrecomp();
        var f = TempPrecomp.Features(6, 4, 40);
        f[(3 * 4 + 2) * 40 + 17] = bad; // image 3, region 2, dimension 17
        f[(5 * 4 + 0) * 40 + 1] = bad;  // a later one must not be reported first
        dir.WriteFeatures("train", f, 6, 4, 40);
        dir.WriteCaptions("train", Enumerable.Range(0, 30).Select(TempPrecomp.Caption));
        var e = Fails<InvalidDataException>(dir);
        Assert.Contains(dir.PathOf("train_ims.npy"), e.Message);
        Assert.Contains($"image row 3 contains {name} at region 2, dimension 17", e.Message);
    }

    [Fact]
    public void Should_SkipTheFeatureScan_WhenAsked()
    {
        using var dir = new TempPrecomp();
        var f = TempPrecomp.Features(2, 0, 8);
        f[9] = float.NaN;
        dir.WriteFeatures("train", f, 2, 8);
        dir.WriteCaptions("train", Enumerable.Range(0, 10).Select(TempPrecomp.Caption));
        using var data = dir.Open("train", Vocab, checkFeatures: false);
        Assert.True(float.IsNaN(data.ImageFeatures(1)[1]));
    }

    [Fact]
    public void Should_ListTheFilesLookedFor_WhenASplitIsMissing()
    {
        using var dir = new TempPrecomp();
        dir.WriteSplit("train", 2, 0, 4);
        var e = Fails<FileNotFoundException>(dir, "testall");
        Assert.Contains(dir.Directory, e.Message);
        Assert.Contains("testall_ims.npy (or testall_feat.npy) and testall_caps.txt", e.Message);
        Assert.Contains("splits present: train", e.Message);

        File.Delete(dir.PathOf("train_caps.txt"));
        e = Fails<FileNotFoundException>(dir, "train");
        Assert.Contains("missing train_caps.txt", e.Message);
    }

    [Fact]
    public void Should_NameTheFolder_WhenItDoesNotExist()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => PrecompDataset.Open("/nonexistent/precomp", "train", Vocab, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("/nonexistent/precomp", e.Message);
    }

    [Fact]
    public void Should_NameTheLine_WhenCaptionsAreNotUtf8()
    {
        using var dir = new TempPrecomp();
        dir.WriteFeatures("train", TempPrecomp.Features(1, 0, 4), 1, 4);
        var bytes = new List<byte>();
        for (int k = 0; k < 5; k++)
        {
            bytes.AddRange(Encoding.UTF8.GetBytes(k == 3 ? "a caf" : "a dog"));
            if (k == 3) bytes.Add(0xE9); // Latin-1 "é", not UTF-8
            bytes.Add((byte)'\n');
        }
        File.WriteAllBytes(dir.PathOf("train_caps.txt"), bytes.ToArray());
        var e = Fails<InvalidDataException>(dir);
        Assert.Contains(dir.PathOf("train_caps.txt"), e.Message);
        Assert.Contains("line 4 is not valid UTF-8", e.Message);
        Assert.Contains("0xE9", e.Message);
    }

    [Fact]
    public void Should_RejectAnEmptyCaptionFile()
    {
        using var dir = new TempPrecomp();
        dir.WriteFeatures("train", TempPrecomp.Features(1, 0, 4), 1, 4);
        File.WriteAllText(dir.PathOf("train_caps.txt"), "");
        var e = Fails<InvalidDataException>(dir);
        Assert.Contains($"{dir.PathOf("train_caps.txt")}: the caption file is empty", e.Message);
    }

    [Fact]
    public void Should_RejectABlankCaptionLine()
    {
        using var dir = new TempPrecomp();
        dir.WriteFeatures("train", TempPrecomp.Features(1, 0, 4), 1, 4);
        dir.WriteCaptions("train", ["a dog", "a dog", "  ", "a dog", "a dog"]);
        var e = Fails<InvalidDataException>(dir);
        Assert.Contains("line 3 is empty", e.Message);
    }

    [Fact]
    public void Should_RejectAnEmptyFeatureFile()
    {
        using var dir = new TempPrecomp();
        dir.WriteFeatures("train", [], 0, 36, 8);
        dir.WriteCaptions("train", ["a dog"]);
        var e = Fails<InvalidDataException>(dir);
        Assert.Contains($"{dir.PathOf("train_ims.npy")}: the feature file is empty", e.Message);
    }

    [Fact]
    public void Should_RejectFeaturesOfTheWrongRank()
    {
        using var dir = new TempPrecomp();
        dir.WriteFeatures("train", new float[16], 1, 2, 2, 4);
        dir.WriteCaptions("train", Enumerable.Repeat("a dog", 5));
        var e = Fails<InvalidDataException>(dir);
        Assert.Contains("expected features of shape (N, D) or (N, R, D); found (1, 2, 2, 4)", e.Message);
    }

    [Fact]
    public void Should_RejectATruncatedFeatureFile()
    {
        using var dir = new TempPrecomp();
        dir.WriteFeatures("train", TempPrecomp.Features(2, 3, 4), 2, 3, 4);
        var bytes = File.ReadAllBytes(dir.PathOf("train_ims.npy"));
        File.WriteAllBytes(dir.PathOf("train_ims.npy"), bytes[..^10]);
        dir.WriteCaptions("train", Enumerable.Repeat("a dog", 10));
        var e = Fails<InvalidDataException>(dir);
        Assert.Contains(dir.PathOf("train_ims.npy"), e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Should_RejectRaggedIds()
    {
        using var dir = new TempPrecomp();
        dir.WriteSplit("train", 3, 0, 4, ids: false);
        dir.WriteIds("train", ["a.jpg", "b.jpg"]);
        var e = Fails<InvalidDataException>(dir);
        Assert.Contains($"{dir.PathOf("train_ids.txt")}: 2 image ids for 3 feature rows", e.Message);
    }

    [Fact]
    public void Should_RejectFloat64Features()
    {
        using var dir = new TempPrecomp();
        Npy.Write(dir.PathOf("train_ims.npy"), new double[8], [2, 4]);
        dir.WriteCaptions("train", Enumerable.Repeat("a dog", 10));
        var e = Fails<InvalidDataException>(dir);
        Assert.Contains("float32", e.Message);
    }

    [Fact]
    public void Should_NameTheLine_WhenACaptionHasNoKnownWord()
    {
        using var dir = new TempPrecomp();
        dir.WriteFeatures("train", TempPrecomp.Features(2, 0, 4), 2, 4);
        dir.WriteCaptions("train", ["a dog", "a dog .", "a dog", "zebra okapi", "a dog", "a dog", "a dog", "a dog", "a dog", "the cat"]);
        var e = Fails<InvalidDataException>(dir);
        Assert.StartsWith(dir.PathOf("train_caps.txt") + ": line 4 (\"zebra okapi\") has no word the vocabulary knows (every token is <unk>)", e.Message);
    }
}
