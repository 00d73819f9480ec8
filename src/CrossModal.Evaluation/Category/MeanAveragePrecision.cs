namespace CrossModal.Evaluation.Category;

/// <summary>
/// Average precision over all ranks, the definition of the Wikipedia/ACMR/DSCMR evaluation code: with R relevant
/// items in the gallery and rel(k) = 1 when the item at rank k (1-based) has the query's class,
/// AP = (1 / R) * sum over k with rel(k) = 1 of P(k), where P(k) = (relevant items in the top k) / k.
/// A query whose class has no item in the gallery has AP 0 (as both reference codes do). mAP is the mean over
/// queries. Items are ranked by <see cref="CategoryRanking"/> (descending score, ties by ascending index).
/// </summary>
public static class MeanAveragePrecision
{
    /// <summary>AP of one ranked relevance list with <paramref name="relevantCount"/> relevant items in it.</summary>
    public static double FromRelevance(ReadOnlySpan<bool> relevantInRankOrder, int relevantCount)
    {
        if (relevantCount == 0) return 0;
        double sum = 0;
        int hits = 0;
        for (int k = 0; k < relevantInRankOrder.Length; k++)
        {
            if (!relevantInRankOrder[k]) continue;
            hits++;
            sum += (double)hits / (k + 1);
        }
        return sum / relevantCount;
    }

    /// <summary>
    /// AP of every query (row) of a queries x items score matrix (row major); relevant = same label.
    /// </summary>
    public static double[] Compute(ReadOnlySpan<float> scores, int queries, int items, ReadOnlySpan<int> queryLabels, ReadOnlySpan<int> itemLabels)
    {
        CategoryMetrics.CheckShapes(scores.Length, queries, items, queryLabels.Length, itemLabels.Length);
        var ap = new double[queries];
        var scratch = new ulong[items];
        var rel = new bool[items];
        for (int q = 0; q < queries; q++)
        {
            int r = CategoryRanking.Rank(scores.Slice(q * items, items), itemLabels, queryLabels[q], scratch, rel);
            ap[q] = FromRelevance(rel, r);
        }
        return ap;
    }

    /// <summary>mAP: the mean of <see cref="Compute"/>.</summary>
    public static double Mean(ReadOnlySpan<float> scores, int queries, int items, ReadOnlySpan<int> queryLabels, ReadOnlySpan<int> itemLabels) =>
        Compute(scores, queries, items, queryLabels, itemLabels).Average();
}
