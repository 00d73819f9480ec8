using System.Text.Json.Serialization;
using CrossModal.Models.Encoders;

namespace CrossModal.Models.Naaf;

/// <summary>
/// NAAF's settings (CrossmodalGroup/NAAF train.py flags). The text encoder is always bidirectional; scoring is
/// text-to-image only. The learned threshold is not a setting: it is model state (<see cref="ThresholdState"/>).
/// </summary>
public sealed record NaafConfig : MatchingConfig
{
    /// <inheritdoc/>
    public override string Model => NaafFamily.FamilyName;

    /// <summary>--no_imgnorm: skip the region L2 normalisation.</summary>
    [JsonPropertyName("no_imgnorm")]
    [Flag("do not L2-normalise the region embeddings")]
    public bool NoImgNorm { get; init; }

    /// <summary>--no_txtnorm: skip the per-word L2 normalisation (the GloVe encoder ignores it, as the original does).</summary>
    [JsonPropertyName("no_txtnorm")]
    [Flag("do not L2-normalise the word embeddings")]
    public bool NoTxtNorm { get; init; }

    /// <summary>--precomp_enc_type: the region encoder's linear layer.</summary>
    [Flag("region encoder: basic or weight_norm")]
    public ImageEncoderType PrecompEncType { get; init; } = ImageEncoderType.Basic;

    /// <summary>--precomp_enc_text_type: basic (learned embedding) or GloVe (the table of a GloVe file). The original's default is GloVe; ours is basic because a GloVe table must be supplied.</summary>
    [Flag("text encoder: basic (learned embedding) or GloVe (embed.glove.weight from a GloVe file)")]
    public TextEncoderType PrecompEncTextType { get; init; } = TextEncoderType.Basic;

    /// <summary>
    /// The GloVe table a new GloVe run starts from (NAAF's train.py has no flag for it: it loads
    /// vocab_path/glove_840B_{f30k,coco}_precomp.json.pkl): that file as NAAF distributes it (a torch.save'd
    /// [vocabulary size, word_dim] float tensor, read by the restricted unpickler) or a .npy matrix, one row per id of
    /// the vocabulary given with --vocab (NAAF's GloVe vocabulary f30k_precomp.json / coco_precomp.json). Read once
    /// when training starts; the table then lives in the weights (txt_enc.embed.glove.weight).
    /// </summary>
    [JsonPropertyName("glove_path")]
    [Flag("NAAF GloVe text encoder: the table to start from (glove_840B_*_precomp.json.pkl as NAAF ships it, or a .npy), rows in the --vocab order")]
    public string? GlovePath { get; init; }

    /// <summary>--lambda_softmax λ: inverse temperature of both positive branches.</summary>
    [Flag("attention temperature λ (inverse) of NAAF's positive branches")]
    public float LambdaSoftmax { get; init; } = 20f;

    /// <summary>--alpha: the weight of the mismatch-distribution term in the threshold's closed-form optimum.</summary>
    [Flag("NAAF threshold learning: alpha of the closed-form optimum")]
    public float Alpha { get; init; } = 2f;

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        Need(Enum.IsDefined(PrecompEncType) && Enum.IsDefined(PrecompEncTextType), "precomp_enc_type or precomp_enc_text_type has a value outside its choices.");
        Need(LambdaSoftmax > 0 && float.IsFinite(LambdaSoftmax), $"lambda_softmax ({LambdaSoftmax}) must be positive.");
        Need(Alpha > 0 && float.IsFinite(Alpha), $"alpha ({Alpha}) must be positive (the rule takes log(σn / (α σp))).");
        Need(GlovePath is null || PrecompEncTextType == TextEncoderType.Glove, "glove_path is a table for the GloVe text encoder; it needs precomp_enc_text_type GloVe.");
    }
}
