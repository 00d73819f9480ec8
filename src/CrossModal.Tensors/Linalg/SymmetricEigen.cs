namespace CrossModal.Tensors.Linalg;

/// <summary>
/// Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method, in double precision. Chosen over
/// Householder tridiagonalisation + QL because it is short, needs no special cases, and is accurate to machine
/// precision in every eigenvalue (relative accuracy even for small ones); it costs about 12 n^3 flops per sweep and
/// converges quadratically in 6-10 sweeps, which is cheap for the sizes it serves here (covariances of a few hundred
/// dimensions, the small projected matrices of <see cref="RandomizedSvd"/>).
/// </summary>
public static class SymmetricEigen
{
    private const int MaxSweeps = 60;

    /// <summary>
    /// Eigenvalues in descending order and the matching unit eigenvectors as the columns of an n x n row-major
    /// matrix (column j belongs to value j, as numpy.linalg.eigh with the order reversed). Each eigenvector's
    /// largest-magnitude component is made positive (the first such component on a tie), so the result is
    /// deterministic. Only the lower triangle of <paramref name="matrix"/> is read.
    /// </summary>
    public static (double[] Values, double[] Vectors) Decompose(ReadOnlySpan<double> matrix, int n)
    {
        if (n < 0 || matrix.Length != (long)n * n) throw new ArgumentException($"Expected an {n} x {n} matrix, got {matrix.Length} values.");
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double v = matrix[i * n + j];
                if (!double.IsFinite(v)) throw new ArgumentException($"Matrix entry ({i}, {j}) is {v}; an eigen-decomposition needs finite values.");
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        var v2 = new double[n * n];
        for (int i = 0; i < n; i++) v2[i * n + i] = 1;

        double total = 0;
        foreach (double x in a) total += x * x;
        for (int sweep = 0; sweep < MaxSweeps; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
            // Converged when the off-diagonal mass is at the rounding level of the whole matrix.
            if (off <= 1e-30 * total || off == 0) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (apq == 0) continue;
                    double app = a[p * n + p], aqq = a[q * n + q];
                    // Skip rotations that would not change the diagonal in double precision.
                    if (Math.Abs(apq) < 1e-300 || (sweep > 3 && Math.Abs(apq) * 1e17 < Math.Abs(app) && Math.Abs(apq) * 1e17 < Math.Abs(aqq)))
                    {
                        a[p * n + q] = a[q * n + p] = 0;
                        continue;
                    }
                    // The rotation angle that zeroes a_pq, in the stable form t = tan(phi) with |phi| <= pi/4.
                    double theta = (aqq - app) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k * n + p], akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p * n + k], aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                    a[p * n + q] = a[q * n + p] = 0;
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v2[k * n + p], vkq = v2[k * n + q];
                        v2[k * n + p] = c * vkp - s * vkq;
                        v2[k * n + q] = s * vkp + c * vkq;
                    }
                }
        }

        var order = Enumerable.Range(0, n).ToArray();
        var diag = new double[n];
        for (int i = 0; i < n; i++) diag[i] = a[i * n + i];
        // Descending by value; equal values keep their index order.
        Array.Sort(order, (x, y) => diag[y].CompareTo(diag[x]) is var c && c != 0 ? c : x.CompareTo(y));
        var values = new double[n];
        var vectors = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            int src = order[j];
            values[j] = diag[src];
            int big = 0;
            for (int i = 1; i < n; i++)
                if (Math.Abs(v2[i * n + src]) > Math.Abs(v2[big * n + src]) + 1e-12) big = i;
            double sign = v2[big * n + src] < 0 ? -1 : 1;
            for (int i = 0; i < n; i++) vectors[i * n + j] = sign * v2[i * n + src];
        }
        return (values, vectors);
    }
}
