using System.Text.Json.Serialization;
using CrossModal.Models.Attention;
using CrossModal.Models.Encoders;

namespace CrossModal.Models.Scan;

/// <summary>SCAN's settings (kuanghuei/SCAN train.py flags), with the published models' <c>--bi_gru</c> on by default.</summary>
public sealed record ScanConfig : MatchingConfig
{
    /// <inheritdoc/>
    public override string Model => ScanFamily.FamilyName;

    /// <summary>--no_imgnorm: skip the region L2 normalisation.</summary>
    [JsonPropertyName("no_imgnorm")]
    [Flag("do not L2-normalise the region embeddings")]
    public bool NoImgNorm { get; init; }

    /// <summary>--no_txtnorm: skip the per-word L2 normalisation.</summary>
    [JsonPropertyName("no_txtnorm")]
    [Flag("do not L2-normalise the word embeddings")]
    public bool NoTxtNorm { get; init; }

    /// <summary>--bi_gru: bidirectional text GRU with averaged directions (every published SCAN model).</summary>
    [Flag("bidirectional text GRU, directions averaged")]
    public bool BiGru { get; init; } = true;

    /// <summary>--precomp_enc_type: the region encoder's linear layer.</summary>
    [Flag("region encoder: basic or weight_norm")]
    public ImageEncoderType PrecompEncType { get; init; } = ImageEncoderType.Basic;

    /// <summary>--cross_attn: t2i (words attend to regions) or i2t.</summary>
    [Flag("attention direction: t2i (words attend to regions) or i2t (regions attend to words)")]
    public AttentionDirection CrossAttn { get; init; } = AttentionDirection.TextToImage;

    /// <summary>--raw_feature_norm: normalisation of the raw similarities across the query axis.</summary>
    [Flag("normalisation of the raw similarities across the query axis")]
    public RawFeatureNorm RawFeatureNorm { get; init; } = RawFeatureNorm.ClippedL2Norm;

    /// <summary>--agg_func: pooling of the relevances into the score.</summary>
    [Flag("pooling of the per-query relevances into the score")]
    public Aggregation AggFunc { get; init; } = Aggregation.LogSumExp;

    /// <summary>--lambda_softmax λ1: inverse temperature of the attention softmax.</summary>
    [Flag("attention temperature λ1 (inverse)")]
    public float LambdaSoftmax { get; init; } = 9f;

    /// <summary>--lambda_lse λ2: temperature of the LogSumExp pooling.</summary>
    [Flag("LogSumExp pooling temperature λ2")]
    public float LambdaLse { get; init; } = 6f;

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        Need(Enum.IsDefined(PrecompEncType) && Enum.IsDefined(CrossAttn) && Enum.IsDefined(RawFeatureNorm) && Enum.IsDefined(AggFunc),
            "precomp_enc_type, cross_attn, raw_feature_norm or agg_func has a value outside its choices.");
        Need(LambdaSoftmax > 0 && LambdaLse > 0, $"lambda_softmax ({LambdaSoftmax}) and lambda_lse ({LambdaLse}) must be positive.");
    }
}
