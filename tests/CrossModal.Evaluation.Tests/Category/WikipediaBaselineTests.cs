using CrossModal.Data;
using CrossModal.Evaluation.Category;
using CrossModal.Models.CategoryBaselines;
using CrossModal.Tests;

namespace CrossModal.Evaluation.Tests.Category;

/// <summary>
/// The baselines on the shipped Wikipedia features (SIFT-BoVW 128 + LDA-10), standard split, against the numbers
/// numpy gives (the data README, and tools/reference/category_reference.py baselines: CCA 0.2439 / 0.1954,
/// SM 0.2782 / 0.2126).
/// </summary>
public sealed class WikipediaBaselineTests
{
    [Fact]
    public void Should_ReproduceTheNumpyCcaMap()
    {
        var (train, test) = Open();
        var cca = Cca.Fit(train.ImageFeatures.Data, 128, train.TextFeatures.Data, 10, train.Count);
        var m = Evaluate(cca, test);
        Assert.Equal(0.2439, m.I2T.Map, 3.5e-4);
        Assert.Equal(0.1954, m.T2I.Map, 3.5e-4);
    }

    [Fact]
    public void Should_ReproduceTheNumpySemanticMatchingMap()
    {
        var (train, test) = Open();
        var sm = SemanticMatching.Fit(train.ImageFeatures.Data, 128, train.TextFeatures.Data, 10, train.Count, train.Labels.ToArray(),
            cancellationToken: TestContext.Current.CancellationToken);
        var m = Evaluate(sm, test);
        Assert.Equal(0.2782, m.I2T.Map, 3.5e-4);
        Assert.Equal(0.2126, m.T2I.Map, 3.5e-4);
    }

    private static (CategoryDataset Train, CategoryDataset Test) Open() =>
        (CategoryDataset.Open(TestData.Path("wikipedia"), "train"), CategoryDataset.Open(TestData.Path("wikipedia"), "test"));

    private static CategoryMetrics Evaluate(ICommonSpaceModel model, CategoryDataset test)
    {
        var labels = test.Labels.ToArray();
        return CategoryMetrics.FromCodes(model.ProjectImages(test.ImageFeatures.Data, test.Count), model.ProjectTexts(test.TextFeatures.Data, test.Count),
            model.Dimension, labels, labels);
    }
}
