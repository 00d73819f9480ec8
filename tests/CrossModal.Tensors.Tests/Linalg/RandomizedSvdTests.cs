using CrossModal.Tensors.IO;
using CrossModal.Tensors.Linalg;
using CrossModal.Tests;

namespace CrossModal.Tensors.Tests.Linalg;

/// <summary>The randomized truncated SVD and the operators it runs on, against numpy.linalg.svd and dense products.</summary>
public sealed class RandomizedSvdTests
{
    [Fact]
    public void Should_MatchNumpysLeadingSingularTriplets()
    {
        var (a, shape) = Npy.ReadFloat64(TestData.Fixture("category", "svd_matrix.npy"));
        var s = Npy.ReadFloat64(TestData.Fixture("category", "svd_values.npy")).Values;
        var u = Npy.ReadFloat64(TestData.Fixture("category", "svd_u.npy")).Values;
        var v = Npy.ReadFloat64(TestData.Fixture("category", "svd_v.npy")).Values;
        int m = shape[0], n = shape[1], k = 5;
        var svd = RandomizedSvd.Compute(new DenseOperator(a, m, n), k, seed: 3, cancellationToken: TestContext.Current.CancellationToken);
        for (int j = 0; j < k; j++)
        {
            Assert.Equal(s[j], svd.Values[j], 9);
            // Singular vectors are defined up to sign: compare |u_ours . u_numpy| with 1.
            double du = 0, dv = 0;
            for (int i = 0; i < m; i++) du += svd.U[i * k + j] * u[i * k + j];
            for (int i = 0; i < n; i++) dv += svd.V[i * k + j] * v[i * k + j];
            Assert.Equal(1, Math.Abs(du), 9);
            Assert.Equal(1, Math.Abs(dv), 9);
            Assert.True(du * dv > 0, "u and v of one triplet must carry the same sign");
        }
    }

    [Fact]
    public void Should_RecoverAnExactLowRankMatrix_WhenTheRankIsLargerThanItsRank()
    {
        // diag(4, 2, 0, 0) embedded in a 6 x 4 matrix: rank 2; asking for 3 values gives 4, 2 and 0.
        var a = new double[24];
        a[0 * 4 + 0] = 4;
        a[3 * 4 + 1] = 2;
        var svd = RandomizedSvd.Compute(new DenseOperator(a, 6, 4), 3, oversample: 1, seed: 1, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(4, svd.Values[0], 12);
        Assert.Equal(2, svd.Values[1], 12);
        Assert.Equal(0, svd.Values[2], 7);
        Assert.Equal(1, Math.Abs(svd.U[0 * 3 + 0]), 12);
        Assert.Equal(1, Math.Abs(svd.U[3 * 3 + 1]), 12);
    }

    [Fact]
    public void Should_MultiplyLikeTheDenseMatrix_ForCsrAndCenteredOperators()
    {
        var rng = new Rng(5);
        int m = 7, n = 5, k = 3;
        var dense = new float[m * n];
        for (int i = 0; i < dense.Length; i++) dense[i] = rng.NextDouble() < 0.4 ? (float)(rng.NextDouble() - 0.5) : 0f;
        var asDouble = dense.Select(x => (double)x).ToArray();
        var mean = new double[n];
        for (int j = 0; j < n; j++) mean[j] = rng.NextDouble();
        var centred = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) centred[i * n + j] = asDouble[i * n + j] - mean[j];
        var x = Enumerable.Range(0, n * k).Select(i => Math.Sin(i)).ToArray();
        var xt = Enumerable.Range(0, m * k).Select(i => Math.Cos(i)).ToArray();
        var csr = CsrMatrix.FromDense(dense, m, n);
        Assert.Equal(dense.Count(v => v != 0), csr.NonZeros);

        foreach (var (op, reference) in new (ILinearOperator, double[])[] { (csr, asDouble), (new CenteredOperator(csr, mean), centred) })
        {
            var y = new double[m * k];
            op.Multiply(x, k, y);
            var expected = MatrixMath.Multiply(reference, m, n, x, k);
            for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], y[i], 12);
            var yt = new double[n * k];
            op.MultiplyTransposed(xt, k, yt);
            var expectedT = MatrixMath.MultiplyTransposedA(reference, m, n, xt, k);
            for (int i = 0; i < yt.Length; i++) Assert.Equal(expectedT[i], yt[i], 12);
        }
    }
}
