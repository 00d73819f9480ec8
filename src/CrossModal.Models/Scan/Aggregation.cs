namespace CrossModal.Models.Scan;

/// <summary>SCAN's --agg_func: pooling of the per-query relevances R into the image-sentence score.</summary>
public enum Aggregation
{
    /// <summary>(1/λ2) log Σ exp(λ2 R), without max subtraction as in the original.</summary>
    LogSumExp,

    /// <summary>Mean of R.</summary>
    Mean,

    /// <summary>Maximum of R.</summary>
    Max,

    /// <summary>Sum of R.</summary>
    Sum,
}
