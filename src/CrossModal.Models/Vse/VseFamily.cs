using CrossModal.Models.Files;
using CrossModal.Tensors;

namespace CrossModal.Models.Vse;

/// <summary>VSE++ (Faghri et al., BMVC 2018; fartashf/vsepp) on precomputed features.</summary>
public sealed class VseFamily : ModelFamily<VseConfig, VseModel>
{
    /// <summary>The family's name.</summary>
    public const string FamilyName = "vsepp";

    /// <inheritdoc/>
    public override string Name => FamilyName;

    /// <inheritdoc/>
    public override string Description => "VSE++ (Faghri et al., BMVC 2018): one vector per image and caption, scored by cosine";

    /// <inheritdoc/>
    public override ImageFeatures ImageFeatures => ImageFeatures.VectorOrRegions;

    /// <inheritdoc/>
    protected override VseConfig Defaults => new();

    /// <inheritdoc/>
    public override IReadOnlyList<Preset> Presets { get; } =
    [
        Preset.For<VseConfig>(FamilyName, "vsepp", "VSE++: max of hinges", c => c, r => r with { MaxViolation = true }),
        Preset.For<VseConfig>(FamilyName, "vse0", "VSE0: sum of hinges, no image normalisation", c => c with { NoImgNorm = true }, r => r with { MaxViolation = false }),
    ];

    /// <inheritdoc/>
    public override VseModel Create(VseConfig config, Rng rng) => new(config, rng);

    /// <summary>VSE++'s train.py has <c>--measure</c> (cosine or order).</summary>
    public override bool Recognizes(OriginalCheckpoint checkpoint) => checkpoint.Options.ContainsKey("measure");

    /// <summary>
    /// Options map one-to-one; sizes fall back to the weights' shapes. The order embeddings (<c>measure</c> other
    /// than cosine, <c>use_abs</c>) are refused rather than silently scored as cosine.
    /// </summary>
    public override ImportedModel Import(OriginalCheckpoint checkpoint)
    {
        var opt = checkpoint.Options;
        string measure = opt.GetString("measure", "cosine");
        if (measure != "cosine" || opt.GetBool("use_abs", false))
            throw new InvalidDataException($"measure '{measure}' with use_abs={opt.GetBool("use_abs", false)} is not supported; CrossModal's VSE++ scores by cosine.");
        var (image, text) = checkpoint.Weights;
        var config = new VseConfig
        {
            ImgDim = image.TryGetValue("fc.weight", out var fc) ? fc.Dim(1) : opt.GetInt("img_dim"),
            EmbedSize = opt.GetInt("embed_size"),
            WordDim = opt.GetInt("word_dim"),
            VocabSize = text.TryGetValue("embed.weight", out var embed) ? embed.Dim(0) : opt.GetInt("vocab_size"),
            NumLayers = opt.GetInt("num_layers", 1),
            NoImgNorm = opt.GetBool("no_imgnorm", false),
            BiGru = opt.GetBool("bi_gru", false),
        };
        return new ImportedModel(config, checkpoint.EncoderState());
    }
}
