using CrossModal.Data.Category;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Data.Tests.Category;

/// <summary>Seen/unseen class splits for the extendable protocol, and selecting a split's pairs.</summary>
public sealed class ClassSplitTests
{
    private static readonly string[] Wiki = ["art", "biology", "geography", "history", "literature", "media", "music", "royalty", "sport", "warfare"];

    [Fact]
    public void Should_SplitByClassNames_CaseInsensitively_OrByIndex()
    {
        var split = ClassSplit.FromNames(["Music", "art", "8"], 10, Wiki);
        Assert.Equal([0, 6, 8], split.Seen);
        Assert.Equal([1, 2, 3, 4, 5, 7, 9], split.Unseen);
        Assert.Equal(["art", "music", "sport"], split.SeenNames(Wiki));
    }

    [Fact]
    public void Should_NameTheClassThatDoesNotExist()
    {
        var e = Assert.Throws<ArgumentException>(() => ClassSplit.FromNames(["art", "cooking"], 10, Wiki, "seen.txt"));
        Assert.Equal("seen.txt: class 'cooking' does not exist in the dataset (classes: art, biology, geography, history, literature, media, music, royalty, sport, warfare).", e.Message);
        var all = Assert.Throws<ArgumentException>(() => ClassSplit.FromNames(["0", "1"], 2, null));
        Assert.Contains("all 2 classes are seen", all.Message);
    }

    [Fact]
    public void Should_DrawFiveReproducibleHalfSplits_ByDefault()
    {
        var a = ClassSplit.Random(10, seed: 3);
        var b = ClassSplit.Random(10, seed: 3);
        Assert.Equal(5, a.Count);
        for (int s = 0; s < 5; s++)
        {
            Assert.Equal(a[s].Seen, b[s].Seen);
            Assert.Equal(5, a[s].Seen.Count);
            Assert.Equal(Enumerable.Range(0, 10), a[s].Seen.Concat(a[s].Unseen).Order());
        }
        // The splits differ from each other and from another seed's (a 1-in-252 coincidence per pair at most).
        Assert.True(a.Select(s => string.Join(",", s.Seen)).Distinct().Count() > 1);
        // The split is the first half of the permutation the seeded Rng draws.
        var perm = new Rng(3).Permutation(10);
        Assert.Equal(perm.Take(5).Order(), a[0].Seen);
    }

    [Fact]
    public void Should_SelectTheSplitsPairs_KeepingLabelsAndOrder()
    {
        var test = CategoryDataset.Open(TestData.Path("wikipedia"), "test");
        var unseen = test.Select([1, 9]);
        Assert.Equal(88 + 104, unseen.Count);
        Assert.All(unseen.Labels, l => Assert.True(l == 1 || l == 9));
        Assert.Equal(10, unseen.ClassCount);
        int first = test.Labels.ToList().FindIndex(l => l == 1 || l == 9);
        Assert.Equal(test.ImageFeatures.Data.Slice(first * 128, 128).ToArray(), unseen.ImageFeatures.Data[..128].ToArray());
        Assert.Equal(test.Texts![first], unseen.Texts![0]);
        var e = Assert.Throws<ArgumentException>(() => test.Select([10]));
        Assert.Contains("class 10 does not exist", e.Message);
    }

    [Fact]
    public void Should_ReplaceTextFeatures_WithTheSameRowCount()
    {
        var test = CategoryDataset.Open(TestData.Path("wikipedia"), "test");
        var replaced = test.WithTextFeatures(Tensor.Zeros(693, 3), "tfidf");
        Assert.Equal([693, 3], replaced.TextFeatures.Shape);
        Assert.Equal("tfidf", replaced.TextFeaturesPath);
        var e = Assert.Throws<ArgumentException>(() => test.WithTextFeatures(Tensor.Zeros(5, 3), "tfidf"));
        Assert.Contains("expected 693 rows", e.Message);
    }

    [Fact]
    public void Should_RejectLabelsWithADifferentRowCount()
    {
        using var dir = new TempPrecomp();
        Npy.Write(dir.PathOf("train_img_a.npy"), new float[6], [3, 2]);
        Npy.Write(dir.PathOf("train_txt_b.npy"), new float[3], [3, 1]);
        File.WriteAllText(dir.PathOf("train_labels.txt"), "0\n1\n");
        var e = Assert.Throws<InvalidDataException>(() => CategoryDataset.Open(dir.Directory, "train"));
        Assert.Contains("train_labels.txt: 2 labels for 3 rows", e.Message);
    }

    [Fact]
    public void Should_NameTheRow_WhenTextFeaturesAreInfinite()
    {
        using var dir = new TempPrecomp();
        Npy.Write(dir.PathOf("train_img_a.npy"), new float[6], [3, 2]);
        Npy.Write(dir.PathOf("train_txt_b.npy"), new float[] { 0, 0, float.NegativeInfinity }, [3, 1]);
        File.WriteAllText(dir.PathOf("train_labels.txt"), "0\n1\n1\n");
        var e = Assert.Throws<InvalidDataException>(() => CategoryDataset.Open(dir.Directory, "train"));
        Assert.Contains("train_txt_b.npy: row 2 contains -Inf", e.Message);
    }
}
