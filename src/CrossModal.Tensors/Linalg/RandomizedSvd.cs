namespace CrossModal.Tensors.Linalg;

/// <summary>
/// Truncated SVD by randomized subspace iteration (Halko, Martinsson and Tropp 2011, algorithms 4.4 and 5.1): the
/// range of A is sampled with Rank + Oversample Gaussian vectors, sharpened by a few power iterations
/// (re-orthonormalised after every product, so singular values below machine precision of the largest do not
/// swamp the basis), then the small projected matrix B = Q^T A is decomposed exactly through the eigenvalues of
/// B B^T (<see cref="SymmetricEigen"/>). Cost: (2 PowerIterations + 2) products of A with a block of Rank +
/// Oversample vectors; A is only touched through <see cref="ILinearOperator"/>, so sparse and centred matrices
/// stay implicit. Deterministic for a given seed.
/// </summary>
public static class RandomizedSvd
{
    /// <summary>The leading <paramref name="rank"/> singular triplets of <paramref name="a"/>.</summary>
    public static TruncatedSvd Compute(ILinearOperator a, int rank, int oversample = 10, int powerIterations = 4, ulong seed = 0,
        CancellationToken cancellationToken = default)
    {
        int m = a.Rows, n = a.Columns;
        if (rank <= 0 || rank > Math.Min(m, n))
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank must be in 1..{Math.Min(m, n)} for a {m} x {n} matrix.");
        if (oversample < 0 || powerIterations < 0) throw new ArgumentException("Oversampling and power iterations cannot be negative.");
        int l = Math.Min(rank + oversample, Math.Min(m, n));

        var rng = new Rng(seed);
        var omega = new double[n * l];
        for (int i = 0; i < omega.Length; i += 2)
        {
            // Box-Muller: two standard normal values from two uniforms in (0, 1].
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            double r = Math.Sqrt(-2 * Math.Log(u1));
            omega[i] = r * Math.Cos(2 * Math.PI * u2);
            if (i + 1 < omega.Length) omega[i + 1] = r * Math.Sin(2 * Math.PI * u2);
        }
        var q = new double[m * l];
        var z = new double[n * l];
        a.Multiply(omega, l, q);
        Orthonormalize(q, m, l);
        for (int it = 0; it < powerIterations; it++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            a.MultiplyTransposed(q, l, z);
            Orthonormalize(z, n, l);
            a.Multiply(z, l, q);
            Orthonormalize(q, m, l);
        }
        // B^T = A^T Q (n x l); B B^T = (A^T Q)^T (A^T Q) (l x l).
        a.MultiplyTransposed(q, l, z);
        var bbt = MatrixMath.MultiplyTransposedA(z, n, l, z, l);
        var (eig, w) = SymmetricEigen.Decompose(bbt, l);
        var values = new double[rank];
        var u = new double[m * rank];
        var v = new double[n * rank];
        var qw = MatrixMath.Multiply(q, m, l, w, l);    // U = Q W
        var zw = MatrixMath.Multiply(z, n, l, w, l);    // B^T W = V diag(S)
        for (int j = 0; j < rank; j++)
        {
            double s = Math.Sqrt(Math.Max(0, eig[j]));
            values[j] = s;
            for (int i = 0; i < m; i++) u[i * rank + j] = qw[i * l + j];
            double inv = s > 0 ? 1 / s : 0;
            for (int i = 0; i < n; i++) v[i * rank + j] = zw[i * l + j] * inv;
        }
        return new TruncatedSvd(m, n, rank, u, values, v);
    }

    /// <summary>
    /// Orthonormalises the columns of a rows x cols row-major block in place by modified Gram-Schmidt, done twice
    /// ("twice is enough": the second pass restores orthogonality lost to cancellation). A column that is
    /// (numerically) in the span of the previous ones becomes zero.
    /// </summary>
    internal static void Orthonormalize(double[] block, int rows, int cols)
    {
        var t = MatrixMath.Transpose(block, rows, cols); // columns contiguous
        var norms0 = new double[cols];
        for (int j = 0; j < cols; j++) norms0[j] = Norm(t.AsSpan(j * rows, rows));
        for (int pass = 0; pass < 2; pass++)
        {
            for (int j = 0; j < cols; j++)
            {
                var cj = t.AsSpan(j * rows, rows);
                for (int i = 0; i < j; i++)
                {
                    var ci = t.AsSpan(i * rows, rows);
                    double d = System.Numerics.Tensors.TensorPrimitives.Dot<double>(ci, cj);
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd<double>(ci, -d, cj, cj);
                }
                double norm = Norm(cj);
                if (norm <= 1e-13 * Math.Max(norms0[j], double.Epsilon))
                    cj.Clear();
                else
                    System.Numerics.Tensors.TensorPrimitives.Multiply<double>(cj, 1 / norm, cj);
            }
        }
        for (int j = 0; j < cols; j++)
            for (int i = 0; i < rows; i++) block[i * cols + j] = t[j * rows + i];
    }

    private static double Norm(ReadOnlySpan<double> x) => Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot(x, x));
}
