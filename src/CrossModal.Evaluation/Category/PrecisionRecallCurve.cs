namespace CrossModal.Evaluation.Category;

/// <summary>
/// The interpolated precision-recall curve (the TREC 11-point curve by default): at recall level L, a query's
/// precision is the best precision at any rank whose recall (relevant items so far / all relevant items) is at least
/// L; the curve is the mean over the queries that have at least one relevant item. Immutable.
/// </summary>
public sealed record PrecisionRecallCurve(IReadOnlyList<double> RecallLevels, IReadOnlyList<double> Precision)
{
    /// <summary>0, 0.1, ..., 1.0.</summary>
    public static IReadOnlyList<double> ElevenPointLevels { get; } = Enumerable.Range(0, 11).Select(i => i / 10.0).ToArray();

    /// <summary>
    /// Adds one query's interpolated precision at each of <paramref name="levels"/> to <paramref name="sums"/>;
    /// returns false (and adds nothing) when the query has no relevant item.
    /// </summary>
    public static bool Accumulate(ReadOnlySpan<bool> relevantInRankOrder, int relevantCount, IReadOnlyList<double> levels, Span<double> sums)
    {
        if (relevantCount == 0) return false;
        // Walk the ranks from the bottom keeping the running maximum of precision: the interpolated precision at
        // recall level L is that maximum at the first rank (from the top) whose recall reaches L.
        int n = relevantInRankOrder.Length;
        var bestFrom = new double[n + 1];
        var recallAt = new double[n];
        int hits = 0;
        for (int k = 0; k < n; k++)
        {
            if (relevantInRankOrder[k]) hits++;
            recallAt[k] = (double)hits / relevantCount;
            bestFrom[k] = (double)hits / (k + 1);
        }
        for (int k = n - 1; k >= 0; k--) bestFrom[k] = Math.Max(bestFrom[k], bestFrom[k + 1]);
        int rank = 0;
        for (int l = 0; l < levels.Count; l++)
        {
            // A small slack so that 0.3 is reached by 3/10 despite binary fractions.
            double level = levels[l] - 1e-12;
            while (rank < n && recallAt[rank] < level) rank++;
            sums[l] += rank < n ? bestFrom[rank] : 0;
        }
        return true;
    }
}
