using System.Text.Json;
using System.Text.Json.Nodes;

namespace CrossModal.Evaluation;

/// <summary>
/// The standard image-text retrieval result: image-to-text (caption retrieval) and text-to-image (image retrieval)
/// metrics and rsum = the six recalls added up. Computed once, immutable.
/// </summary>
public sealed record RetrievalMetrics(DirectionMetrics I2T, DirectionMetrics T2I) : IMetrics
{
    /// <summary>R1+R5+R10 of both directions.</summary>
    public double Rsum => I2T.RecallSum + T2I.RecallSum;

    /// <summary>
    /// The 5-fold (COCO 1K) summary: every metric averaged over the folds, rsum recomputed from the averaged recalls
    /// (the original code's printed 5-fold rsum is wrong; this is the correct one).
    /// </summary>
    public static RetrievalMetrics Average(IReadOnlyList<RetrievalMetrics> folds) =>
        new(DirectionMetrics.Average(folds.Select(f => f.I2T).ToList()), DirectionMetrics.Average(folds.Select(f => f.T2I).ToList()));

    /// <summary>R1 + R5 of both directions (VSRN's validation measure).</summary>
    public double R1R5 => I2T.R1 + I2T.R5 + T2I.R1 + T2I.R5;

    /// <summary>{"i2t": {"r1", "r5", "r10", "medr", "meanr"}, "t2i": {...}, "rsum"}.</summary>
    public string ToJson(bool indented = true) => ToJsonObject().ToJsonString(new JsonSerializerOptions { WriteIndented = indented });

    /// <inheritdoc/>
    public JsonObject ToJsonObject()
    {
        static JsonObject D(DirectionMetrics m) => new()
        {
            ["r1"] = m.R1, ["r5"] = m.R5, ["r10"] = m.R10, ["medr"] = m.Medr, ["meanr"] = m.Meanr,
        };
        return new JsonObject { ["i2t"] = D(I2T), ["t2i"] = D(T2I), ["rsum"] = Rsum };
    }

    /// <summary>Reads <see cref="ToJsonObject"/> output (a metrics.jsonl line, an --json file).</summary>
    public static RetrievalMetrics FromJson(JsonNode node)
    {
        static DirectionMetrics D(JsonNode d) => new((double)d["r1"]!, (double)d["r5"]!, (double)d["r10"]!, (double)d["medr"]!, (double)d["meanr"]!);
        return new RetrievalMetrics(D(node["i2t"]!), D(node["t2i"]!));
    }

    /// <inheritdoc/>
    public string Summary =>
        $"R@1/5/10 i2t {I2T.R1:F1}/{I2T.R5:F1}/{I2T.R10:F1}  t2i {T2I.R1:F1}/{T2I.R5:F1}/{T2I.R10:F1}  rsum {Rsum:F1}";

    /// <summary>One human-readable line.</summary>
    public override string ToString() =>
        $"i2t R@1 {I2T.R1:F1} R@5 {I2T.R5:F1} R@10 {I2T.R10:F1} medr {I2T.Medr:F1} meanr {I2T.Meanr:F1} | " +
        $"t2i R@1 {T2I.R1:F1} R@5 {T2I.R5:F1} R@10 {T2I.R10:F1} medr {T2I.Medr:F1} meanr {T2I.Meanr:F1} | rsum {Rsum:F1}";
}
