using System.Text.Json.Serialization;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// VSRN's settings under the names of its train.py flags (KunpengLi1994/VSRN). <see cref="DataName"/> decides the
/// architecture exactly as there: <c>f30k_precomp</c> skips the l2norm before the GCN and adds the <c>bn</c> layer;
/// every other name (coco_precomp, f8k_precomp, precomp) normalises before the GCN and has no <c>bn</c>. The caption
/// encoder reads the GCN region features, so its <c>dim_vid</c> is the embedding size (the original requires the two
/// to be equal; here it follows <see cref="MatchingConfig.EmbedSize"/>).
/// </summary>
public sealed record VsrnConfig : MatchingConfig
{
    /// <summary>The original's defaults: embed_size 2048.</summary>
    public VsrnConfig() => EmbedSize = 2048;

    /// <inheritdoc/>
    public override string Model => VsrnFamily.FamilyName;

    /// <summary>The exact data_name that switches to the Flickr30K architecture (compared as the original does, ==).</summary>
    public const string Flickr30KDataName = "f30k_precomp";

    /// <summary>--data_name: f30k_precomp (no l2norm before the GCN, bn layer) or anything else (coco_precomp, f8k_precomp, precomp).</summary>
    [Flag("dataset name as VSRN's train.py spells it: f30k_precomp = no l2norm before the GCN and a BatchNorm on the image embedding; others (coco_precomp, f8k_precomp, precomp) normalise before the GCN")]
    public string DataName { get; init; } = "precomp";

    /// <summary>--max_len: caption targets are cut to this many tokens; the decoder runs max_len - 1 teacher-forced steps.</summary>
    [Flag("captioning: longest caption target in tokens (the decoder runs max_len - 1 steps)")]
    public int MaxLen { get; init; } = 60;

    /// <summary>--dim_vid: the caption encoder's input width, always the embedding size (it reads the GCN features).</summary>
    public int DimVid => EmbedSize;

    /// <summary>--dim_hidden: the captioning GRUs' size.</summary>
    [Flag("captioning: hidden size of the caption encoder and decoder GRUs")]
    public int DimHidden { get; init; } = 512;

    /// <summary>--dim_word: the caption decoder's word embedding size.</summary>
    [Flag("captioning: word embedding size of the caption decoder")]
    public int DimWord { get; init; } = 300;

    /// <summary>--input_dropout_p: the two captioning dropouts (after vid2hid, and on each decoder input).</summary>
    [Flag("captioning: dropout probability after the caption encoder's linear layer and on every decoder input")]
    public float InputDropoutP { get; init; } = 0.2f;

    /// <summary>--rnn_dropout_p: passed to one-layer GRUs by the original, where PyTorch ignores it; kept for the options' sake.</summary>
    public float RnnDropoutP { get; init; } = 0.5f;

    /// <summary>--rnn_type: only "gru" (the original's default and every published model).</summary>
    public string RnnType { get; init; } = "gru";

    /// <summary>--bidirectional (an int in the original): only 0.</summary>
    public int Bidirectional { get; init; }

    /// <summary>--no_imgnorm: skip the final L2 normalisation of the image embedding.</summary>
    [JsonPropertyName("no_imgnorm")]
    [Flag("do not L2-normalise the image embedding")]
    public bool NoImgNorm { get; init; }

    /// <summary>--use_abs: only false (absolute-value embeddings belong to the order measure, which is not ported).</summary>
    public bool UseAbs { get; init; }

    /// <summary>--measure: only "cosine".</summary>
    public string Measure { get; init; } = "cosine";

    /// <summary>Weight of the caption NLL in the loss (1 in the original: loss = hinge + NLL; 0 trains without it).</summary>
    [Flag("captioning: weight of the caption NLL in the training loss (the original: 1)")]
    public float CaptionWeight { get; init; } = 1f;

    /// <summary>
    /// Off (the original): the optimizer's parameter list holds every captioning parameter twice, so clipping counts
    /// their gradients twice and scales them twice, and Adam steps them twice per iteration. On: once, like the rest.
    /// </summary>
    [Flag("count and step the captioning parameters once (the original's optimizer lists them twice: clipped and stepped twice)")]
    public bool CaptionParamsOnce { get; init; }

    /// <summary>
    /// Whether the model has the captioning branch (caption_model.*). Models imported from an original checkpoint
    /// have none: VSRN's train.py saves only the two retrieval encoders.
    /// </summary>
    public bool Captioning { get; init; } = true;

    /// <summary>Whether the architecture is the Flickr30K one (data_name == "f30k_precomp" exactly).</summary>
    [JsonIgnore]
    public bool IsFlickr30K => DataName == Flickr30KDataName;

    /// <summary>Decoder steps per caption: max_len - 1.</summary>
    [JsonIgnore]
    public int DecoderSteps => MaxLen - 1;

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        Need(!string.IsNullOrWhiteSpace(DataName), "data_name must not be empty.");
        Need(MaxLen >= 2, $"max_len must be at least 2 (the decoder runs max_len - 1 steps), got {MaxLen}.");
        Need(DimHidden > 0 && DimWord > 0, $"dim_hidden ({DimHidden}) and dim_word ({DimWord}) must be positive.");
        Need(InputDropoutP is >= 0f and < 1f, $"input_dropout_p must be in [0, 1), got {InputDropoutP}.");
        Need(CaptionWeight >= 0f && float.IsFinite(CaptionWeight), $"caption_weight must be a non-negative number, got {CaptionWeight}.");
        Need(RnnType == "gru", $"rnn_type '{RnnType}' is not supported (VSRN's published models use gru).");
        Need(Bidirectional == 0, $"bidirectional {Bidirectional} is not supported (VSRN's published models use 0).");
        Need(Measure == "cosine" && !UseAbs, $"measure '{Measure}' with use_abs={UseAbs} is not supported; VSRN scores by cosine.");
    }
}
