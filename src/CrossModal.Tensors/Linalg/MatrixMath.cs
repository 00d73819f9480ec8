using System.Numerics.Tensors;

namespace CrossModal.Tensors.Linalg;

/// <summary>
/// The few dense double-precision products the closed-form models need (covariances, projections). Plain loops
/// over rows with vectorised row updates: these matrices are small (hundreds of columns), so a packed kernel like
/// the float <see cref="Kernels.Gemm"/> would not pay off, and double keeps closed-form fits comparable with numpy.
/// </summary>
public static class MatrixMath
{
    /// <summary>C = A B with A [m x k], B [k x n], C [m x n] (overwritten), all row major.</summary>
    public static void Multiply(ReadOnlySpan<double> a, int m, int k, ReadOnlySpan<double> b, int n, Span<double> c)
    {
        if (a.Length != (long)m * k || b.Length != (long)k * n || c.Length < (long)m * n)
            throw new ArgumentException($"Shapes do not agree: A {a.Length} values for {m} x {k}, B {b.Length} for {k} x {n}, C {c.Length} for {m} x {n}.");
        c[..(m * n)].Clear();
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * n, n);
            for (int p = 0; p < k; p++)
            {
                double v = a[i * k + p];
                if (v != 0) TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), v, ci, ci);
            }
        }
    }

    /// <summary>Returns A [m x k] times B [k x n].</summary>
    public static double[] Multiply(ReadOnlySpan<double> a, int m, int k, ReadOnlySpan<double> b, int n)
    {
        var c = new double[m * n];
        Multiply(a, m, k, b, n, c);
        return c;
    }

    /// <summary>Returns A^T B for A [m x k] and B [m x n]: a k x n matrix (e.g. a cross-covariance).</summary>
    public static double[] MultiplyTransposedA(ReadOnlySpan<double> a, int m, int k, ReadOnlySpan<double> b, int n)
    {
        if (a.Length != (long)m * k || b.Length != (long)m * n)
            throw new ArgumentException($"Shapes do not agree: A {a.Length} values for {m} x {k}, B {b.Length} for {m} x {n}.");
        var c = new double[k * n];
        for (int i = 0; i < m; i++)
        {
            var bi = b.Slice(i * n, n);
            for (int p = 0; p < k; p++)
            {
                double v = a[i * k + p];
                if (v == 0) continue;
                var cp = c.AsSpan(p * n, n);
                TensorPrimitives.MultiplyAdd(bi, v, cp, cp);
            }
        }
        return c;
    }

    /// <summary>The transpose of an m x n row-major matrix.</summary>
    public static double[] Transpose(ReadOnlySpan<double> a, int m, int n)
    {
        var t = new double[a.Length];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
        return t;
    }
}
