using CrossModal.Models.CategoryBaselines;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Models.Tests.CategoryBaselines;

/// <summary>Regularised CCA against the numpy reference (tools/reference/category_reference.py) and hand-worked cases.</summary>
public sealed class CcaTests
{
    [Fact]
    public void Should_MatchTheNumpyReference_UpToTheSignOfEachDirection()
    {
        var x = Npy.ReadFloat32(TestData.Fixture("category", "cca_x.npy"));
        var y = Npy.ReadFloat32(TestData.Fixture("category", "cca_y.npy"));
        var corr = Npy.ReadFloat64(TestData.Fixture("category", "cca_correlations.npy")).Values;
        var px = Npy.ReadFloat64(TestData.Fixture("category", "cca_x_test_projected.npy")).Values;
        var py = Npy.ReadFloat64(TestData.Fixture("category", "cca_y_test_projected.npy")).Values;
        int p = x.Dim(1), q = y.Dim(1), train = 45, test = x.Dim(0) - train, d = 3;

        var cca = Cca.Fit(x.Data[..(train * p)], p, y.Data[..(train * q)], q, train, new CcaOptions(Dimension: d, Regularization: 1e-3));
        for (int j = 0; j < d; j++) Assert.Equal(corr[j], cca.Correlations[j], 10);
        var ox = cca.ProjectImages(x.Data[(train * p)..], test);
        var oy = cca.ProjectTexts(y.Data[(train * q)..], test);
        for (int j = 0; j < d; j++)
        {
            // A direction's sign is arbitrary, but the same for both modalities.
            double sign = Math.Sign(Enumerable.Range(0, test).Sum(i => ox[i * d + j] * px[i * d + j]));
            for (int i = 0; i < test; i++)
            {
                Assert.Equal(px[i * d + j], sign * ox[i * d + j], 4);
                Assert.Equal(py[i * d + j], sign * oy[i * d + j], 4);
            }
        }
    }

    [Fact]
    public void Should_FindThePerfectlyCorrelatedDirection()
    {
        // Text = 2 * image[0] + 1 exactly; image[1] is independent of it: the first canonical correlation is 1 and the
        // codes of the pair are equal up to scale (cosine 1 in one dimension).
        var rng = new Tensors.Rng(2);
        int n = 50;
        var img = new float[n * 2];
        var txt = new float[n];
        for (int i = 0; i < n; i++)
        {
            img[2 * i] = rng.NextFloat();
            img[2 * i + 1] = rng.NextFloat();
            txt[i] = 2 * img[2 * i] + 1;
        }
        var cca = Cca.Fit(img, 2, txt, 1, n, new CcaOptions(Dimension: 1, Regularization: 0));
        Assert.Equal(1.0, cca.Correlations[0], 9);
        var a = cca.ProjectImages(img.AsSpan(0, 2), 1);
        var b = cca.ProjectTexts(txt.AsSpan(0, 1), 1);
        Assert.Equal(a[0], b[0], 4);
    }

    [Fact]
    public void Should_ReduceWideFeaturesToPrincipalComponents_Exactly_WhenAllAreKept()
    {
        // 30 samples of 40-dimensional features: with 29 components (= n - 1, all of them) the reduction is exact,
        // so forcing it (MaxDenseDimension 10) gives the same correlations as the dense fit.
        var rng = new Tensors.Rng(9);
        int n = 30, p = 40, q = 3;
        var x = new float[n * p];
        var y = new float[n * q];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() < 0.3 ? rng.NextFloat() : 0f;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < q; j++) y[i * q + j] = x[i * p + j] + x[i * p + j + 5] + 0.1f * rng.NextFloat();
        var dense = Cca.Fit(x, p, y, q, n, new CcaOptions(Dimension: 3, Regularization: 1e-2));
        var reduced = Cca.Fit(x, p, y, q, n, new CcaOptions(Dimension: 3, Regularization: 1e-2, MaxDenseDimension: 10, PrincipalComponents: 29));
        for (int j = 0; j < 3; j++) Assert.Equal(dense.Correlations[j], reduced.Correlations[j], 7);
    }

    [Fact]
    public void Should_SayWhyItCannotFit()
    {
        var e = Assert.Throws<ArgumentException>(() => Cca.Fit(new float[8], 2, new float[4], 1, 4, new CcaOptions(Dimension: 2)));
        Assert.Contains("dimension 2 must be in 1..1", e.Message);
        var s = Assert.Throws<InvalidOperationException>(() => Cca.Fit(new float[8], 2, new float[4], 1, 4, new CcaOptions(Dimension: 1, Regularization: 0)));
        Assert.Contains("image covariance is singular", s.Message);
    }
}
