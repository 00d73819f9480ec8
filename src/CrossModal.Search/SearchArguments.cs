namespace CrossModal.Search;

/// <summary>The argument checks every index shares, with one clear message each.</summary>
internal static class SearchArguments
{
    /// <summary>Largest accepted k: the result rows are allocated up front.</summary>
    public const int MaxK = 1 << 20;

    public static void CheckK(int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1 (the number of results per query).");
        if (k > MaxK) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be at most {MaxK}.");
    }

    /// <summary>Rows in a [n x dimension] buffer of <paramref name="length"/> floats.</summary>
    public static int QueryCount(long length, int dimension, string what = "queries")
    {
        if (length % dimension != 0)
            throw new ArgumentException($"The {what} hold {length} floats, which is not a whole number of {dimension}-dimensional vectors (the index's dimension).");
        return checked((int)(length / dimension));
    }

    public static void CheckOutputs(int queries, int k, int idsLength, int scoresLength)
    {
        long need = (long)queries * k;
        if (idsLength < need) throw new ArgumentException($"ids holds {idsLength} entries; {queries} queries x k={k} need {need}.");
        if (scoresLength < need) throw new ArgumentException($"scores holds {scoresLength} entries; {queries} queries x k={k} need {need}.");
    }

    /// <summary>Every query value must be finite (a NaN would make the order meaningless).</summary>
    public static void CheckFinite(ReadOnlySpan<float> queries, int dimension)
    {
        for (int i = 0; i < queries.Length; i++)
            if (!float.IsFinite(queries[i]))
                throw new ArgumentException($"Query {i / dimension} holds a non-finite value ({queries[i]}) at dimension {i % dimension}.");
    }
}
