using CrossModal.Tensors.IO;
using CrossModal.Tensors.Linalg;
using CrossModal.Tests;

namespace CrossModal.Tensors.Tests.Linalg;

/// <summary>The Jacobi eigen-solver against hand-worked values and numpy.linalg.eigvalsh.</summary>
public sealed class SymmetricEigenTests
{
    [Fact]
    public void Should_DecomposeTheHandWorked2x2()
    {
        // [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1)/sqrt2 and (1, -1)/sqrt2 (largest component positive).
        var (values, vectors) = SymmetricEigen.Decompose([2, 1, 1, 2], 2);
        Assert.Equal(3, values[0], 14);
        Assert.Equal(1, values[1], 14);
        double h = Math.Sqrt(0.5);
        Assert.Equal(h, vectors[0], 14);
        Assert.Equal(h, vectors[2], 14);
        Assert.Equal(h, vectors[1], 14);
        Assert.Equal(-h, vectors[3], 14);
    }

    [Fact]
    public void Should_MatchNumpy_WithARepeatedAndNegativeEigenvalues()
    {
        var (a, shape) = Npy.ReadFloat64(TestData.Fixture("category", "eigen_matrix.npy"));
        var expected = Npy.ReadFloat64(TestData.Fixture("category", "eigen_values.npy")).Values;
        int n = shape[0];
        var (values, vectors) = SymmetricEigen.Decompose(a, n);
        for (int i = 0; i < n; i++) Assert.Equal(expected[i], values[i], 12);
        // A V = V diag(values) and V^T V = I.
        var av = MatrixMath.Multiply(a, n, n, vectors, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) Assert.Equal(vectors[i * n + j] * values[j], av[i * n + j], 12);
        var vtv = MatrixMath.MultiplyTransposedA(vectors, n, n, vectors, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) Assert.Equal(i == j ? 1 : 0, vtv[i * n + j], 12);
    }

    [Fact]
    public void Should_HandleDiagonalAndEmptyMatrices()
    {
        var (values, vectors) = SymmetricEigen.Decompose([1, 0, 0, 0, 5, 0, 0, 0, -2], 3);
        Assert.Equal([5, 1, -2], values);
        Assert.Equal([0, 1, 0, 1, 0, 0, 0, 0, 1], vectors);
        Assert.Empty(SymmetricEigen.Decompose([], 0).Values);
    }

    [Fact]
    public void Should_RejectNonFiniteEntries()
    {
        var e = Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose([1, double.NaN, double.NaN, 1], 2));
        Assert.Contains("(1, 0) is NaN", e.Message);
    }
}
