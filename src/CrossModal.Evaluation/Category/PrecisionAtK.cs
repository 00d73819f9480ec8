namespace CrossModal.Evaluation.Category;

/// <summary>
/// Precision at K: the fraction of the top K ranked items that have the query's class. When K exceeds the gallery
/// size the whole gallery is the top K (the denominator is the gallery size), so P@K stays a fraction.
/// </summary>
public static class PrecisionAtK
{
    /// <summary>P@K of one ranked relevance list.</summary>
    public static double FromRelevance(ReadOnlySpan<bool> relevantInRankOrder, int k)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "K must be at least 1.");
        if (relevantInRankOrder.Length == 0) return 0;
        k = Math.Min(k, relevantInRankOrder.Length);
        int hits = 0;
        for (int i = 0; i < k; i++)
            if (relevantInRankOrder[i]) hits++;
        return (double)hits / k;
    }
}
