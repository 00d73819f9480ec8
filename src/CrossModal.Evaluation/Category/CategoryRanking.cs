namespace CrossModal.Evaluation.Category;

/// <summary>
/// The ranking every category metric starts from. A query's items are ordered by descending score; equal scores
/// keep ascending item index (the order of <c>np.argsort(-s, kind="stable")</c> and of MATLAB's stable
/// <c>sort(..., 'descend')</c>). The reference codes (ACMR_demo, DSCMR) call numpy's default unstable argsort, so
/// their order among equal scores is unspecified; ours is fixed so that a result never depends on the sort
/// algorithm. Ties matter in practice for quantised or saturated scores (e.g. class posteriors that reach 1.0).
/// -0 equals +0; NaN ranks below every number.
/// </summary>
public static class CategoryRanking
{
    /// <summary>
    /// Writes the relevance of the ranked items into <paramref name="relevantInRankOrder"/> (true when the item at
    /// that rank has <paramref name="queryLabel"/>) and returns how many items are relevant.
    /// <paramref name="scratch"/> holds at least as many elements as there are scores.
    /// </summary>
    public static int Rank(ReadOnlySpan<float> scores, ReadOnlySpan<int> itemLabels, int queryLabel, Span<ulong> scratch, Span<bool> relevantInRankOrder)
    {
        int m = scores.Length;
        if (itemLabels.Length != m || scratch.Length < m || relevantInRankOrder.Length < m)
            throw new ArgumentException($"Ranking {m} scores needs {m} item labels (got {itemLabels.Length}) and scratch of {m} (got {scratch.Length}, {relevantInRankOrder.Length}).");
        // One 64-bit key per item: the high half orders by descending score, the low half by ascending index, so a
        // plain ascending sort of the keys is the ranking (no comparer, no allocation).
        var keys = scratch[..m];
        for (int i = 0; i < m; i++) keys[i] = ((ulong)DescendingKey(scores[i]) << 32) | (uint)i;
        keys.Sort();
        int relevant = 0;
        for (int r = 0; r < m; r++)
        {
            bool rel = itemLabels[(int)(uint)keys[r]] == queryLabel;
            relevantInRankOrder[r] = rel;
            if (rel) relevant++;
        }
        return relevant;
    }

    /// <summary>The ranked item indices of one query (best first), for display and tests.</summary>
    public static int[] Order(ReadOnlySpan<float> scores)
    {
        var keys = new ulong[scores.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = ((ulong)DescendingKey(scores[i]) << 32) | (uint)i;
        Array.Sort(keys);
        return keys.Select(k => (int)(uint)k).ToArray();
    }

    /// <summary>A key whose unsigned ascending order is the descending order of the floats (NaN last).</summary>
    private static uint DescendingKey(float score)
    {
        if (float.IsNaN(score)) return uint.MaxValue;
        uint bits = BitConverter.SingleToUInt32Bits(score + 0f); // + 0f turns -0 into +0
        // The usual float-to-sortable-integer map (negatives: flip all bits; positives: set the sign bit) gives
        // ascending order; its complement gives descending order.
        uint ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        return ~ascending;
    }
}
