namespace CrossModal.Evaluation.Category;

/// <summary>
/// Category-level metrics of one retrieval direction (image queries ranking texts, or text queries ranking images):
/// mAP over all ranks, precision at each K, the interpolated precision-recall curve. Immutable.
/// </summary>
/// <param name="Map">Mean over queries of <see cref="MeanAveragePrecision"/> AP.</param>
/// <param name="Ks">The K of each precision.</param>
/// <param name="Precisions">Mean over queries of P@K, in the order of <paramref name="Ks"/>.</param>
/// <param name="Curve">The interpolated precision-recall curve.</param>
/// <param name="Queries">Number of queries.</param>
/// <param name="QueriesWithoutRelevant">Queries whose class has no item in the gallery (AP 0, not in the curve).</param>
public sealed record CategoryDirectionMetrics(double Map, IReadOnlyList<int> Ks, IReadOnlyList<double> Precisions,
    PrecisionRecallCurve Curve, int Queries, int QueriesWithoutRelevant)
{
    /// <summary>Ranks the items of every query (row of a queries x items matrix) once and computes all metrics.</summary>
    public static CategoryDirectionMetrics Compute(ReadOnlySpan<float> scores, int queries, int items, ReadOnlySpan<int> queryLabels,
        ReadOnlySpan<int> itemLabels, IReadOnlyList<int> ks, IReadOnlyList<double> recallLevels)
    {
        CategoryMetrics.CheckShapes(scores.Length, queries, items, queryLabels.Length, itemLabels.Length);
        if (queries == 0) throw new ArgumentException("No queries to evaluate.");
        for (int l = 1; l < recallLevels.Count; l++)
            if (!(recallLevels[l] > recallLevels[l - 1])) throw new ArgumentException("Recall levels must be strictly ascending.");
        var scratch = new ulong[items];
        var rel = new bool[items];
        double apSum = 0;
        var pk = new double[ks.Count];
        var pr = new double[recallLevels.Count];
        int withRelevant = 0;
        for (int q = 0; q < queries; q++)
        {
            int r = CategoryRanking.Rank(scores.Slice(q * items, items), itemLabels, queryLabels[q], scratch, rel);
            apSum += MeanAveragePrecision.FromRelevance(rel, r);
            for (int k = 0; k < ks.Count; k++) pk[k] += Category.PrecisionAtK.FromRelevance(rel, ks[k]);
            if (PrecisionRecallCurve.Accumulate(rel, r, recallLevels, pr)) withRelevant++;
        }
        for (int k = 0; k < pk.Length; k++) pk[k] /= queries;
        for (int l = 0; l < pr.Length; l++) pr[l] = withRelevant == 0 ? 0 : pr[l] / withRelevant;
        return new CategoryDirectionMetrics(apSum / queries, ks.ToArray(), pk, new PrecisionRecallCurve(recallLevels.ToArray(), pr),
            queries, queries - withRelevant);
    }

    /// <summary>P@K for one of the <see cref="Ks"/>.</summary>
    public double PrecisionAt(int k)
    {
        for (int i = 0; i < Ks.Count; i++)
            if (Ks[i] == k) return Precisions[i];
        throw new ArgumentException($"P@{k} was not computed (computed: {string.Join(", ", Ks)}).", nameof(k));
    }
}
