using CrossModal.Models.CategoryBaselines;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Models.Tests.CategoryBaselines;

/// <summary>The L-BFGS logistic regression against the numpy Newton reference and hand-checkable properties.</summary>
public sealed class LogisticRegressionTests
{
    [Fact]
    public void Should_ReachTheNumpyNewtonOptimum()
    {
        var x = Npy.ReadFloat32(TestData.Fixture("category", "cca_x.npy"));
        var labels = Npy.ReadInt64(TestData.Fixture("category", "cca_labels.npy")).Values.Select(v => (int)v).ToArray();
        var expected = Npy.ReadFloat64(TestData.Fixture("category", "logreg_test_posteriors.npy")).Values;
        int p = x.Dim(1), train = 45, test = x.Dim(0) - train;
        var lr = LogisticRegression.Fit(x.Data[..(train * p)], train, p, labels.AsSpan(0, train), 1e-2,
            cancellationToken: TestContext.Current.CancellationToken);
        var post = lr.Posteriors(x.Data[(train * p)..], test);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], post[i], 5);
    }

    [Fact]
    public void Should_UseOnlyTheTrainingClasses_AndGiveDistributions()
    {
        // Two separable classes labelled 3 and 7 in one dimension: the columns are [3, 7]; large x means class 7.
        float[] x = [-2, -1.5f, -1, 1, 1.5f, 2];
        int[] y = [3, 3, 3, 7, 7, 7];
        var lr = LogisticRegression.Fit(x, 6, 1, y, 1e-2, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal([3, 7], lr.Classes);
        var post = lr.Posteriors([-3f, 0f, 3f], 3);
        Assert.True(post[0] > 0.9 && post[5] > 0.9);
        Assert.Equal(0.5, post[2], 5); // the midpoint of a symmetric problem
        for (int i = 0; i < 3; i++) Assert.Equal(1.0, post[2 * i] + post[2 * i + 1], 6);
    }

    [Fact]
    public void Should_RejectASingleClass()
    {
        var e = Assert.Throws<ArgumentException>(() => LogisticRegression.Fit([1f, 2f], 2, 1, [4, 4], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("at least two classes", e.Message);
    }
}
