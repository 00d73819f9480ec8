namespace CrossModal.Models.Objectives;

/// <summary>The number validation maximises to pick the best model.</summary>
public enum ValidationMeasure
{
    /// <summary>R@1 + R@5 + R@10 of both directions (VSE++, SCAN, IMRAM, NAAF).</summary>
    Rsum,

    /// <summary>R@1 + R@5 of both directions (VSRN).</summary>
    R1R5,

    /// <summary>Mean of the two directions' mean average precision (category-level models).</summary>
    MeanAveragePrecision,
}
