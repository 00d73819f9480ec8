namespace CrossModal.Evaluation;

/// <summary>Recall at 1/5/10 (percent), median and mean rank (1-based) of one retrieval direction.</summary>
public sealed record DirectionMetrics(double R1, double R5, double R10, double Medr, double Meanr)
{
    /// <summary>R1 + R5 + R10.</summary>
    public double RecallSum => R1 + R5 + R10;

    /// <summary>Metrics from 0-based ranks: R@K = 100 · #(rank &lt; K) / n, medr = floor(median) + 1, meanr = mean + 1.</summary>
    public static DirectionMetrics FromRanks(ReadOnlySpan<int> ranks)
    {
        if (ranks.Length == 0) throw new ArgumentException("No ranks to summarise.");
        int r1 = 0, r5 = 0, r10 = 0;
        double sum = 0;
        foreach (int r in ranks)
        {
            if (r < 1) r1++;
            if (r < 5) r5++;
            if (r < 10) r10++;
            sum += r;
        }
        var sorted = ranks.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        // numpy.median averages the two middle values of an even count; the originals then floor it.
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        return new DirectionMetrics(100.0 * r1 / n, 100.0 * r5 / n, 100.0 * r10 / n, Math.Floor(median) + 1, sum / n + 1);
    }

    /// <summary>The element-wise mean of several metrics (the 5-fold protocol averages metrics, not ranks).</summary>
    public static DirectionMetrics Average(IReadOnlyList<DirectionMetrics> items) => new(
        items.Average(m => m.R1), items.Average(m => m.R5), items.Average(m => m.R10),
        items.Average(m => m.Medr), items.Average(m => m.Meanr));
}
