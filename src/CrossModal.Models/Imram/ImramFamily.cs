using CrossModal.Models.Attention;
using CrossModal.Models.Files;
using CrossModal.Tensors;

namespace CrossModal.Models.Imram;

/// <summary>IMRAM, Iterative Matching with Recurrent Attention Memory (Chen et al., CVPR 2020; HuiChen24/IMRAM) on region features.</summary>
public sealed class ImramFamily : ModelFamily<ImramConfig, ImramModel>
{
    /// <summary>The family's name.</summary>
    public const string FamilyName = "imram";

    /// <inheritdoc/>
    public override string Name => FamilyName;

    /// <inheritdoc/>
    public override string Description => "IMRAM (Chen et al., CVPR 2020): K steps of SCAN attention with a gated memory, text/image/full";

    /// <inheritdoc/>
    protected override ImramConfig Defaults => new();

    /// <summary>
    /// The paper's settings with K = 3 (the scripts add --max_violation --bi_gru --agg_func=Mean --no_IMRAM_norm):
    /// Flickr30K λ 9 with SCAN's recipe (30 epochs, lr 2e-4 decayed at 15); COCO λ 11, 20 epochs, lr 5e-4 decayed at 10.
    /// </summary>
    public override IReadOnlyList<Preset> Presets { get; } =
    [
        Imram("imram-full", "IMRAM full (Flickr30K): K 3, λ 9", ImramMode.FullImram, coco: false),
        Imram("imram-text", "IMRAM text (Flickr30K): K 3, λ 9", ImramMode.TextImram, coco: false),
        Imram("imram-image", "IMRAM image (Flickr30K): K 3, λ 9", ImramMode.ImageImram, coco: false),
        Imram("imram-full-coco", "IMRAM full (COCO): K 3, λ 11, 20 epochs, lr 5e-4 decayed at 10", ImramMode.FullImram, coco: true),
        Imram("imram-text-coco", "IMRAM text (COCO, the published script): K 3, λ 11, 20 epochs, lr 5e-4 decayed at 10", ImramMode.TextImram, coco: true),
        Imram("imram-image-coco", "IMRAM image (COCO): K 3, λ 11, 20 epochs, lr 5e-4 decayed at 10", ImramMode.ImageImram, coco: true),
    ];

    private static Preset Imram(string name, string description, ImramMode mode, bool coco) =>
        Preset.For<ImramConfig>(FamilyName, name, description,
            c => c with { ModelMode = mode, IterationStep = 3, LambdaSoftmax = coco ? 11f : 9f, NoImramNorm = true, BiGru = true },
            r => coco ? r with { MaxViolation = true, NumEpochs = 20, LrUpdate = 10, LearningRate = 5e-4f } : r with { MaxViolation = true });

    /// <inheritdoc/>
    public override ImramModel Create(ImramConfig config, Rng rng) => new(config, rng);

    /// <summary>IMRAM's opts.py has <c>--model_mode</c> and <c>--iteration_step</c>.</summary>
    public override bool Recognizes(OriginalCheckpoint checkpoint) =>
        checkpoint.Options.ContainsKey("model_mode") && checkpoint.Options.ContainsKey("iteration_step");

    /// <summary>
    /// train_gpus.py's checkpoint: one DataParallel state dict (<c>module.</c> prefixes); options map one-to-one
    /// (absent ones take opts.py's defaults); sizes come from the weights.
    /// </summary>
    public override ImportedModel Import(OriginalCheckpoint checkpoint)
    {
        var opt = checkpoint.Options;
        if (checkpoint.Weights.Count != 1)
            throw new InvalidDataException($"{checkpoint.Weights.Source} holds {checkpoint.Weights.Count} state dicts; IMRAM saves one (the DataParallel model's).");
        var weights = checkpoint.Weights[0].StripPrefix("module.");
        string encType = opt.GetString("precomp_enc_type", "basic");
        if (encType != "basic")
            throw new InvalidDataException($"precomp_enc_type '{encType}' is not supported for IMRAM (every published IMRAM model uses 'basic').");
        var config = new ImramConfig
        {
            ImgDim = weights.Get("img_enc.fc_local.weight").Dim(1),
            EmbedSize = weights.Get("img_enc.fc_local.weight").Dim(0),
            WordDim = weights.Get("txt_enc.embed.weight").Dim(1),
            VocabSize = weights.Get("txt_enc.embed.weight").Dim(0),
            NumLayers = opt.GetInt("num_layers", 1),
            NoImgNorm = opt.GetBool("no_imgnorm", false),
            NoTxtNorm = opt.GetBool("no_txtnorm", false),
            BiGru = opt.GetBool("bi_gru", false),
            ModelMode = FlagValues.Parse<ImramMode>(opt.GetString("model_mode"), "model_mode"),
            IterationStep = opt.GetInt("iteration_step", 3),
            LambdaSoftmax = (float)opt.GetDouble("lambda_softmax", 9.0),
            NoImramNorm = opt.GetBool("no_IMRAM_norm", false),
            RawFeatureNorm = FlagValues.Parse<RawFeatureNorm>(opt.GetString("raw_feature_norm", "clipped_l2norm"), "raw_feature_norm"),
        };
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in weights) state[name] = t;
        return new ImportedModel(config, state);
    }
}
