using CrossModal.Evaluation;

namespace CrossModal.Search.TwoStage;

/// <summary>What two-stage retrieval achieved on a split, next to scoring every pair.</summary>
/// <param name="Metrics">R@K, medr, meanr of the two-stage ranking (a true match outside the k candidates ranks after them).</param>
/// <param name="K">Candidates re-scored per query.</param>
/// <param name="Prerank">What pre-ranked: "pooled" (the model's own mean vectors) or the pre-ranking checkpoint.</param>
/// <param name="PairScores">Cross-attention pair scores computed: the distinct candidate pairs of both directions, at most (images + captions) x k.</param>
/// <param name="FullPairScores">Pair scores of full scoring: images x captions.</param>
/// <param name="Seconds">Wall time of the two stages after encoding (pre-ranking search plus re-scoring).</param>
/// <param name="CandidateRecallT2I">Fraction of captions whose image is among their k candidates.</param>
/// <param name="CandidateRecallI2T">Fraction of images with at least one of their captions among their k candidates.</param>
/// <param name="EncodeSeconds">Wall time of encoding the split with the model (and the pre-ranking model), before <paramref name="Seconds"/>.</param>
public sealed record TwoStageResult(RetrievalMetrics Metrics, int K, string Prerank, long PairScores, long FullPairScores, double Seconds,
    double CandidateRecallT2I, double CandidateRecallI2T, double EncodeSeconds);
