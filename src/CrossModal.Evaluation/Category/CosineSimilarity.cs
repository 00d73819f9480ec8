using CrossModal.Tensors.Kernels;

namespace CrossModal.Evaluation.Category;

/// <summary>Cosine similarities between two sets of row vectors, the ranking score of category-level retrieval.</summary>
public static class CosineSimilarity
{
    /// <summary>
    /// [n x m] cosines of the rows of <paramref name="a"/> [n x dim] with the rows of <paramref name="b"/> [m x dim].
    /// Rows are L2-normalised in double, then multiplied with the float GEMM. A zero row has cosine 0 with
    /// everything (numpy would give NaN; 0 keeps the ranking defined).
    /// </summary>
    public static float[] Compute(ReadOnlySpan<float> a, int n, ReadOnlySpan<float> b, int m, int dim)
    {
        if (a.Length != (long)n * dim || b.Length != (long)m * dim)
            throw new ArgumentException($"Expected {n} x {dim} and {m} x {dim} values, got {a.Length} and {b.Length}.");
        var an = Normalize(a, n, dim);
        var bn = Normalize(b, m, dim);
        var sims = new float[(long)n * m];
        Gemm.Multiply(false, true, n, m, dim, 1f, an, dim, bn, dim, 0f, sims, m);
        return sims;
    }

    private static float[] Normalize(ReadOnlySpan<float> x, int rows, int dim)
    {
        var result = new float[x.Length];
        for (int i = 0; i < rows; i++)
        {
            var row = x.Slice(i * dim, dim);
            double s = 0;
            foreach (float v in row) s += (double)v * v;
            double inv = s > 0 ? 1 / Math.Sqrt(s) : 0;
            for (int j = 0; j < dim; j++) result[i * dim + j] = (float)(row[j] * inv);
        }
        return result;
    }
}
