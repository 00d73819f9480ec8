namespace CrossModal.Models.Attention;

/// <summary>
/// The cross attention of SCAN (func_attention), split into stages that SCAN, IMRAM and NAAF share, each with its
/// forward and backward over one "owner" block. Layout: S holds the raw similarities of the owner's context items
/// (rows; regions for t2i) with the query items of every partner (columns; the words of every caption of the block),
/// one column segment per partner, so every per-pair step of the original becomes a row or column operation over all
/// partners at once.
/// <list type="number">
/// <item><see cref="RawSimilarity"/>: S = C Qᵀ (one GEMM for a whole block of owners).</item>
/// <item><see cref="RawFeatureNormalization"/>: --raw_feature_norm across the query axis, within each segment of a row.</item>
/// <item><see cref="ContextSoftmax"/>: α = softmax over the context rows of λ·a, per column.</item>
/// <item><see cref="AttendedVectors"/>: att_q = Σ_c α[c, q] C_c, explicitly (IMRAM's memory gate and NAAF consume
/// them; SCAN scores without building them, from the Gram matrix of C).</item>
/// </list>
/// </summary>
public static class AttentionStages
{
    /// <summary>The original code's epsilon, in the L2 norms and in the cosine's clamped denominator.</summary>
    public const float Eps = 1e-8f;

    /// <summary>The negative slope of the clipped norms' LeakyReLU.</summary>
    public const float LeakySlope = 0.1f;
}
