using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Data.Tests;

/// <summary>Category-labelled data against the facts stated in the data READMEs (shapes, class counts, row sums).</summary>
public sealed class CategoryDatasetTests
{
    [Theory]
    [InlineData("train", 2173, new[] { 138, 272, 244, 248, 202, 178, 186, 144, 214, 347 })]
    [InlineData("test", 693, new[] { 34, 88, 96, 85, 65, 58, 51, 41, 71, 104 })]
    public void Should_OpenWikipedia_WithTheReadmeClassCounts(string split, int count, int[] classCounts)
    {
        var data = CategoryDataset.Open(TestData.Path("wikipedia"), split);
        Assert.Equal(count, data.Count);
        Assert.Equal(new[] { count, 128 }, data.ImageFeatures.Shape);
        Assert.Equal(new[] { count, 10 }, data.TextFeatures.Shape);
        Assert.Equal(10, data.ClassCount);
        Assert.Equal(["art", "biology", "geography", "history", "literature", "media", "music", "royalty", "sport", "warfare"], data.Categories);
        Assert.Equal(classCounts, data.ClassCounts());
        Assert.Equal(count, data.Texts!.Count);
        Assert.Equal(count, data.TextIds!.Count);
        Assert.EndsWith("_img_sift_bovw128.npy", data.ImageFeaturesPath);
        // README: SIFT bag-of-words histograms and LDA posteriors both sum to 1 per row.
        for (int i = 0; i < count; i += 97)
        {
            Assert.Equal(1.0, RowSum(data.ImageFeatures.Data.Slice(i * 128, 128)), 1e-4);
            Assert.Equal(1.0, RowSum(data.TextFeatures.Data.Slice(i * 10, 10)), 1e-4);
        }
    }

    [Fact]
    public void Should_AgreeWithTheOneBasedLabelsOfTheIdsFile()
    {
        var data = CategoryDataset.Open(TestData.Path("wikipedia"), "test");
        var rows = File.ReadAllLines(TestData.Path("wikipedia", "test_ids.tsv")).Skip(1).Select(l => l.Split('\t')).ToArray();
        for (int i = 0; i < data.Count; i++)
        {
            Assert.Equal(int.Parse(rows[i][2]) - 1, data.Labels[i]);
            Assert.Equal(rows[i][1], data.ImageIds![i]);
        }
    }

    [Fact]
    public void Should_OpenThePascalTestSplit_WithoutCategoryNames()
    {
        var data = CategoryDataset.Open(TestData.Path("pascal-sentences-partial"), "test");
        Assert.Equal(100, data.Count);
        Assert.Equal(new[] { 100, 4096 }, data.ImageFeatures.Shape);
        Assert.Equal(new[] { 100, 300 }, data.TextFeatures.Shape);
        Assert.Null(data.Categories);
        Assert.Equal(20, data.ClassCount);
        Assert.All(data.ClassCounts(), c => Assert.Equal(5, c));
    }

    [Fact]
    public void Should_SayWhichFeaturesAreMissing_ForThePascalTrainSplit()
    {
        var e = Assert.Throws<FileNotFoundException>(() => CategoryDataset.Open(TestData.Path("pascal-sentences-partial"), "train"));
        Assert.Contains("split 'train' has no image features (looked for train_img_*.npy)", e.Message);
    }

    [Fact]
    public void Should_RejectLabelsOutsideTheCategories()
    {
        using var dir = new TempPrecomp();
        Npy.Write(dir.PathOf("train_img_a.npy"), new float[6], [3, 2]);
        Npy.Write(dir.PathOf("train_txt_b.npy"), new float[3], [3, 1]);
        File.WriteAllText(dir.PathOf("categories.txt"), "x\ny\n");
        File.WriteAllText(dir.PathOf("train_labels.txt"), "0\n1\n2\n");
        var e = Assert.Throws<InvalidDataException>(() => CategoryDataset.Open(dir.Directory, "train"));
        Assert.Contains("train_labels.txt: line 3 has class 2", e.Message);
    }

    [Fact]
    public void Should_RejectMismatchedRowCounts()
    {
        using var dir = new TempPrecomp();
        Npy.Write(dir.PathOf("train_img_a.npy"), new float[6], [3, 2]);
        Npy.Write(dir.PathOf("train_txt_b.npy"), new float[2], [2, 1]);
        File.WriteAllText(dir.PathOf("train_labels.txt"), "0\n1\n2\n");
        var e = Assert.Throws<InvalidDataException>(() => CategoryDataset.Open(dir.Directory, "train"));
        Assert.Contains("train_txt_b.npy: 2 rows but", e.Message);
    }

    [Fact]
    public void Should_NameTheRow_WhenFeaturesAreNotFinite()
    {
        using var dir = new TempPrecomp();
        var f = new float[6];
        f[3] = float.NaN;
        Npy.Write(dir.PathOf("train_img_a.npy"), f, [3, 2]);
        Npy.Write(dir.PathOf("train_txt_b.npy"), new float[3], [3, 1]);
        File.WriteAllText(dir.PathOf("train_labels.txt"), "0\n1\n2\n");
        var e = Assert.Throws<InvalidDataException>(() => CategoryDataset.Open(dir.Directory, "train"));
        Assert.Contains("train_img_a.npy: row 1 contains NaN", e.Message);
    }

    private static double RowSum(ReadOnlySpan<float> row)
    {
        double s = 0;
        foreach (float v in row) s += v;
        return s;
    }
}
