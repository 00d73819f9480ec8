using System.Text.Json;

namespace CrossModal.Evaluation;

/// <summary>
/// The standard image-text retrieval result: image-to-text (caption retrieval) and text-to-image (image retrieval)
/// metrics and rsum = the six recalls added up. Computed once, immutable.
/// </summary>
public sealed record RetrievalMetrics(DirectionMetrics I2T, DirectionMetrics T2I)
{
    /// <summary>R1+R5+R10 of both directions.</summary>
    public double Rsum => I2T.RecallSum + T2I.RecallSum;

    /// <summary>
    /// The 5-fold (COCO 1K) summary: every metric averaged over the folds, rsum recomputed from the averaged recalls
    /// (the original code's printed 5-fold rsum is wrong; this is the correct one).
    /// </summary>
    public static RetrievalMetrics Average(IReadOnlyList<RetrievalMetrics> folds) =>
        new(DirectionMetrics.Average(folds.Select(f => f.I2T).ToList()), DirectionMetrics.Average(folds.Select(f => f.T2I).ToList()));

    /// <summary>{"i2t": {"r1", "r5", "r10", "medr", "meanr"}, "t2i": {...}, "rsum"}.</summary>
    public string ToJson(bool indented = true)
    {
        static Dictionary<string, double> D(DirectionMetrics m) => new()
        {
            ["r1"] = m.R1, ["r5"] = m.R5, ["r10"] = m.R10, ["medr"] = m.Medr, ["meanr"] = m.Meanr,
        };
        var o = new Dictionary<string, object> { ["i2t"] = D(I2T), ["t2i"] = D(T2I), ["rsum"] = Rsum };
        return JsonSerializer.Serialize(o, new JsonSerializerOptions { WriteIndented = indented });
    }

    /// <summary>One human-readable line.</summary>
    public override string ToString() =>
        $"i2t R@1 {I2T.R1:F1} R@5 {I2T.R5:F1} R@10 {I2T.R10:F1} medr {I2T.Medr:F1} meanr {I2T.Meanr:F1} | " +
        $"t2i R@1 {T2I.R1:F1} R@5 {T2I.R5:F1} R@10 {T2I.R10:F1} medr {T2I.Medr:F1} meanr {T2I.Meanr:F1} | rsum {Rsum:F1}";
}
