using CrossModal.Models.Attention;

namespace CrossModal.Models.Scan;

/// <summary>
/// The stacked-cross-attention settings of SCAN (Lee et al., ECCV 2018), named after the original flags.
/// </summary>
/// <param name="TextToImage">--cross_attn t2i (words attend to regions) when true, i2t (regions attend to words) when false.</param>
/// <param name="RawFeatureNorm">--raw_feature_norm: how raw similarities are normalised across the query axis.</param>
/// <param name="LambdaSoftmax">--lambda_softmax λ1, the inverse temperature of the attention softmax.</param>
/// <param name="Aggregation">--agg_func: how the per-query relevances are pooled into one score.</param>
/// <param name="LambdaLse">--lambda_lse λ2 of the LogSumExp pooling.</param>
public sealed record CrossAttentionOptions(
    bool TextToImage = true,
    RawFeatureNorm RawFeatureNorm = RawFeatureNorm.ClippedL2Norm,
    float LambdaSoftmax = 9f,
    Aggregation Aggregation = Aggregation.LogSumExp,
    float LambdaLse = 6f)
{
    /// <summary>The original code's epsilon, in the L2 norms and in the cosine's clamped denominator.</summary>
    public const float Eps = AttentionStages.Eps;

    /// <summary>Options from a SCAN configuration.</summary>
    public static CrossAttentionOptions From(ScanConfig c) =>
        new(c.CrossAttn == AttentionDirection.TextToImage, c.RawFeatureNorm, c.LambdaSoftmax, c.AggFunc, c.LambdaLse);
}
