using CrossModal.Evaluation;
using CrossModal.Models.Objectives;

namespace CrossModal.Training;

/// <summary>One validation: the metrics of the validation split and the family's measure of them (<see cref="Score"/>, what picks the best model).</summary>
public sealed record ValidationResult(ValidationMeasure Measure, double Score, IMetrics Metrics)
{
    /// <summary>The measure's value of retrieval metrics (rsum, or R1+R5 for VSRN).</summary>
    public static ValidationResult Of(ValidationMeasure measure, RetrievalMetrics metrics) => new(measure, measure switch
    {
        ValidationMeasure.Rsum => metrics.Rsum,
        ValidationMeasure.R1R5 => metrics.R1R5,
        _ => throw new ArgumentException($"Retrieval metrics have no {measure}."),
    }, metrics);
}
