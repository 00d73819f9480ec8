using CrossModal.Tensors;

namespace CrossModal.Search.Tests.Support;

/// <summary>Seeded test vectors and the brute-force reference every index is checked against.</summary>
internal static class Vectors
{
    /// <summary>n random unit vectors (isotropic: normalised Gaussians) of dimension d.</summary>
    public static float[] RandomUnit(int n, int d, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[n * d];
        rng.Normal(x);
        UnitVectors.Normalize(x, d);
        return x;
    }

    /// <summary>
    /// n unit vectors with a low intrinsic dimension, as embeddings have: x = normalise(A z + noise e), z in
    /// R^latent Gaussian, A a fixed random d x latent matrix (from <paramref name="seed"/>), isotropic noise of
    /// relative size <paramref name="noise"/>. Queries near a gallery item come from <see cref="Near"/>.
    /// </summary>
    public static float[] Structured(int n, int d, int latent, float noise, ulong seed, ulong mixSeed = 1234)
    {
        var a = new float[d * latent];
        new Rng(mixSeed).Normal(a, 0, 1 / MathF.Sqrt(latent));
        var rng = new Rng(seed);
        var z = new float[latent];
        var e = new float[d];
        var x = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            rng.Normal(z);
            rng.Normal(e, 0, noise);
            for (int r = 0; r < d; r++)
            {
                float s = e[r];
                for (int c = 0; c < latent; c++) s += a[r * latent + c] * z[c];
                x[i * d + r] = s;
            }
        }
        UnitVectors.Normalize(x, d);
        return x;
    }

    /// <summary>Queries that are perturbed copies of random gallery rows (a caption near its image): normalise(x + sigma g).</summary>
    public static float[] Near(float[] gallery, int d, int n, float sigma, ulong seed)
    {
        var rng = new Rng(seed);
        int items = gallery.Length / d;
        var q = new float[n * d];
        var g = new float[d];
        for (int j = 0; j < n; j++)
        {
            int i = rng.NextInt(items);
            rng.Normal(g, 0, sigma / MathF.Sqrt(d));
            for (int r = 0; r < d; r++) q[j * d + r] = gallery[i * d + r] + g[r];
        }
        UnitVectors.Normalize(q, d);
        return q;
    }

    /// <summary>Scores in double precision of query j against every item: the reference for every index.</summary>
    public static double[] Scores(float[] gallery, float[] queries, int d, int j)
    {
        int n = gallery.Length / d;
        var s = new double[n];
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int r = 0; r < d; r++) sum += (double)gallery[i * d + r] * queries[j * d + r];
            s[i] = sum;
        }
        return s;
    }

    /// <summary>The exact top k of query j by the index-wide rule (score descending, then id ascending).</summary>
    public static int[] TopK(float[] gallery, float[] queries, int d, int j, int k)
    {
        var s = Scores(gallery, queries, d, j);
        return Enumerable.Range(0, s.Length).OrderByDescending(i => s[i]).ThenBy(i => i).Take(k).ToArray();
    }

    /// <summary>Mean fraction of the exact top k found in each query's k results.</summary>
    public static double Recall(float[] gallery, float[] queries, int d, SearchResult result)
    {
        double found = 0;
        for (int j = 0; j < result.QueryCount; j++)
        {
            var truth = TopK(gallery, queries, d, j, result.K).ToHashSet();
            foreach (int id in result.IdsOf(j)) if (truth.Contains(id)) found++;
        }
        return found / ((double)result.QueryCount * result.K);
    }
}
