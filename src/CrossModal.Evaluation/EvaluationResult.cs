namespace CrossModal.Evaluation;

/// <summary>
/// The outcome of evaluating one split: the metrics (5-fold mean when <see cref="Folds"/> is set) and the
/// similarity matrix (images x captions, or the five diagonal fold blocks stacked for the 5-fold protocol).
/// </summary>
public sealed record EvaluationResult(RetrievalMetrics Metrics, RetrievalMetrics[]? Folds, float[] Similarities, int[] SimilarityShape);
