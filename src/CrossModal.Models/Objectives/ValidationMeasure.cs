using System.Text.Json.Serialization;

namespace CrossModal.Models.Objectives;

/// <summary>The number validation maximises to pick the best model (JSON and logs spell it "rsum", "r1r5", "mAP").</summary>
public enum ValidationMeasure
{
    /// <summary>R@1 + R@5 + R@10 of both directions (VSE++, SCAN, IMRAM, NAAF).</summary>
    [JsonStringEnumMemberName("rsum")]
    Rsum,

    /// <summary>R@1 + R@5 of both directions (VSRN).</summary>
    [JsonStringEnumMemberName("r1r5")]
    R1R5,

    /// <summary>Mean of the two directions' mean average precision (category-level models).</summary>
    [JsonStringEnumMemberName("mAP")]
    MeanAveragePrecision,
}
