using System.Text.Json.Serialization;
using CrossModal.Models.Attention;

namespace CrossModal.Models.Imram;

/// <summary>
/// IMRAM's settings (HuiChen24/IMRAM opts.py flags and names). The defaults are the published scripts' (--bi_gru,
/// --no_IMRAM_norm, --max_violation, --agg_func=Mean; iteration_step 3, lambda_softmax 9); the model_mode default is
/// full_IMRAM (opts.py's own default "vse" does not run). Aggregation is always the mean over the query items, as in
/// the original whatever --agg_func says.
/// </summary>
public sealed record ImramConfig : MatchingConfig
{
    /// <inheritdoc/>
    public override string Model => ImramFamily.FamilyName;

    /// <summary>--model_mode: full_IMRAM, text_IMRAM or image_IMRAM.</summary>
    [Flag("IMRAM directions: full_IMRAM (both, added), text_IMRAM (words query regions) or image_IMRAM (regions query words)")]
    public ImramMode ModelMode { get; init; } = ImramMode.FullImram;

    /// <summary>--iteration_step K: matching steps per direction.</summary>
    [Flag("IMRAM matching steps K per direction (at least 1)")]
    public int IterationStep { get; init; } = 3;

    /// <summary>--lambda_softmax: inverse temperature of the attention softmax.</summary>
    [Flag("attention temperature λ1 (inverse)")]
    public float LambdaSoftmax { get; init; } = 9f;

    /// <summary>--no_IMRAM_norm: do not L2-normalise the query after each memory update (both published scripts pass it).</summary>
    [JsonPropertyName("no_IMRAM_norm")]
    [Flag("do not L2-normalise the query after each IMRAM memory update")]
    public bool NoImramNorm { get; init; } = true;

    /// <summary>--raw_feature_norm: normalisation of the raw similarities across the query axis.</summary>
    [Flag("normalisation of the raw similarities across the query axis")]
    public RawFeatureNorm RawFeatureNorm { get; init; } = RawFeatureNorm.ClippedL2Norm;

    /// <summary>--no_imgnorm: skip the region L2 normalisation.</summary>
    [JsonPropertyName("no_imgnorm")]
    [Flag("do not L2-normalise the region embeddings")]
    public bool NoImgNorm { get; init; }

    /// <summary>--no_txtnorm: skip the per-word L2 normalisation.</summary>
    [JsonPropertyName("no_txtnorm")]
    [Flag("do not L2-normalise the word embeddings")]
    public bool NoTxtNorm { get; init; }

    /// <summary>
    /// --bi_gru: the original's text encoder indexes the second direction's final state unconditionally, so it only
    /// runs bidirectional; false is refused.
    /// </summary>
    [Flag("bidirectional text GRU, directions averaged (IMRAM requires it)")]
    public bool BiGru { get; init; } = true;

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        Need(Enum.IsDefined(ModelMode), $"model_mode has a value outside full_IMRAM, text_IMRAM, image_IMRAM.");
        Need(Enum.IsDefined(RawFeatureNorm), "raw_feature_norm has a value outside its choices.");
        Need(IterationStep >= 1, $"iteration_step is {IterationStep}; IMRAM needs at least 1 matching step.");
        Need(LambdaSoftmax > 0, $"lambda_softmax ({LambdaSoftmax}) must be positive.");
        Need(BiGru, "IMRAM's text encoder is bidirectional (the original fails without --bi_gru); bi_gru must be true.");
    }
}
