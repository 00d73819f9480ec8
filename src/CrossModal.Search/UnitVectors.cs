using System.Numerics.Tensors;

namespace CrossModal.Search;

/// <summary>The unit-norm contract of the indexes: checking it, and normalising vectors that do not meet it.</summary>
public static class UnitVectors
{
    /// <summary>
    /// How far an added vector's L2 norm may be from 1. A float32 vector normalised by a model is within about
    /// 1e-6; 1e-3 accepts float16 round trips and still catches vectors that were never normalised.
    /// </summary>
    public const float NormTolerance = 1e-3f;

    /// <summary>Scales every row of <paramref name="rows"/> ([n x dimension]) to unit L2 norm; an all-zero row is an error.</summary>
    public static void Normalize(Span<float> rows, int dimension)
    {
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The dimension must be at least 1.");
        int n = SearchArguments.QueryCount(rows.Length, dimension, "rows");
        for (int i = 0; i < n; i++)
        {
            var row = rows.Slice(i * dimension, dimension);
            float norm = TensorPrimitives.Norm(row);
            if (!(norm > 0) || !float.IsFinite(norm)) throw new ArgumentException($"Row {i} has norm {norm}; it cannot be normalised.");
            TensorPrimitives.Divide(row, norm, row);
        }
    }

    /// <summary>
    /// Throws one clear error for the first row of <paramref name="rows"/> that is not finite or not of unit norm;
    /// <paramref name="firstId"/> is the id the first row would get (for the message).
    /// </summary>
    internal static unsafe void Check(ReadOnlySpan<float> rows, int dimension, long firstId)
    {
        int n = SearchArguments.QueryCount(rows.Length, dimension, "vectors");
        fixed (float* p = rows) Check(p, n, dimension, firstId);
    }

    /// <summary>The same check over <paramref name="n"/> rows at <paramref name="p"/> (a mapped file may exceed a span).</summary>
    internal static unsafe void Check(float* p, int n, int dimension, long firstId)
    {
        {
            nint basePtr = (nint)p;
            // Rows are independent: split large batches across the cores (about 100 ms per 4 GB on one).
            int bad = int.MaxValue;
            Tensors.Threading.Parallelism.For(n, Math.Max(1, (1 << 20) / dimension), (start, end) =>
            {
                for (int i = start; i < end; i++)
                {
                    var row = new ReadOnlySpan<float>((float*)basePtr + (long)i * dimension, dimension);
                    // The sum of squares is finite only when every value is (a NaN or infinity propagates).
                    float ss = TensorPrimitives.SumOfSquares(row);
                    if (!float.IsFinite(ss) || Math.Abs(MathF.Sqrt(ss) - 1) > NormTolerance)
                    {
                        InterlockedMin(ref bad, i);
                        return;
                    }
                }
            });
            if (bad == int.MaxValue) return;
            var first = new ReadOnlySpan<float>(p + (long)bad * dimension, dimension);
            for (int j = 0; j < dimension; j++)
                if (!float.IsFinite(first[j]))
                    throw new ArgumentException($"Vector {bad} (id {firstId + bad}) holds a non-finite value ({first[j]}) at dimension {j}.");
            double sum = 0;
            foreach (float v in first) sum += (double)v * v;
            throw new ArgumentException($"Vector {bad} (id {firstId + bad}) has L2 norm {Math.Sqrt(sum):G6}; the index holds unit vectors (cosine similarity) - normalise it first (UnitVectors.Normalize).");
        }
    }

    private static void InterlockedMin(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value < current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) return;
            current = seen;
        }
    }
}
