using CrossModal.Models.Files;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Models.Vsrn;

/// <summary>VSRN, Visual Semantic Reasoning (Li et al., ICCV 2019; KunpengLi1994/VSRN) on region features.</summary>
public sealed class VsrnFamily : ModelFamily<VsrnConfig, VsrnModel>
{
    /// <summary>The family's name.</summary>
    public const string FamilyName = "vsrn";

    /// <inheritdoc/>
    public override string Name => FamilyName;

    /// <inheritdoc/>
    public override string Description => "VSRN (Li et al., ICCV 2019): region graph reasoning (4 GCN blocks) and a GRU over the regions, trained with a caption-generation loss";

    /// <inheritdoc/>
    protected override VsrnConfig Defaults => new();

    /// <summary>train.py's defaults with --max_violation (every published command passes it); validation every 500 iterations.</summary>
    public override TrainingRecipe DefaultRecipe => new() { MaxViolation = true, ValStep = 500 };

    /// <summary>train.py keeps the model with the best R@1 + R@5 of both directions on dev.</summary>
    public override ValidationMeasure ValidationMeasure => ValidationMeasure.R1R5;

    /// <summary>The README's two command lines.</summary>
    public override IReadOnlyList<Preset> Presets { get; } =
    [
        Preset.For<VsrnConfig>(FamilyName, "vsrn-f30k", "VSRN (Flickr30K): data_name f30k_precomp (bn, no l2norm before the GCN), max_len 60, lr decayed at epoch 10",
            c => c with { DataName = VsrnConfig.Flickr30KDataName, MaxLen = 60 }, r => r with { MaxViolation = true, LrUpdate = 10 }),
        Preset.For<VsrnConfig>(FamilyName, "vsrn-coco", "VSRN (COCO): data_name coco_precomp, lr decayed at epoch 15",
            c => c with { DataName = "coco_precomp" }, r => r with { MaxViolation = true, LrUpdate = 15 }),
    ];

    /// <inheritdoc/>
    public override VsrnModel Create(VsrnConfig config, Rng rng) => new(config, rng);

    /// <inheritdoc/>
    public override TrainingObjective CreateObjective(RetrievalModel model, TrainingRecipe recipe) => new VsrnObjective((VsrnModel)model, recipe);

    /// <summary>VSRN's train.py has the captioning options (<c>dim_vid</c>, <c>dim_hidden</c>); its image weights have Rs_GCN blocks.</summary>
    public override bool Recognizes(OriginalCheckpoint checkpoint) =>
        checkpoint.Options.ContainsKey("dim_vid") && checkpoint.Options.ContainsKey("dim_hidden")
        || checkpoint.Weights.Count == 2 && checkpoint.Weights[0].ContainsKey("Rs_GCN_1.g.weight");

    /// <summary>
    /// Options map one-to-one (absent ones take train.py's defaults), sizes come from the weights. The captioning
    /// modules are not in these files (train.py saves only the two encoders), so the model has none. As the original's
    /// image encoder does when loading, image entries its architecture lacks are dropped (a bn.* in a coco_precomp
    /// model); everything else loads strictly.
    /// </summary>
    public override ImportedModel Import(OriginalCheckpoint checkpoint)
    {
        var opt = checkpoint.Options;
        var (image, text) = checkpoint.Weights;
        string dataName = opt.GetString("data_name", "precomp");
        if (!dataName.EndsWith("_precomp", StringComparison.Ordinal) && dataName != "precomp")
            throw new InvalidDataException($"data_name '{dataName}' is a full-image VSRN model (CNN inside); only precomputed-feature models (*_precomp) are supported.");
        if (!image.TryGetValue("fc.weight", out var fc)) throw new InvalidDataException("the image state dict has no fc.weight.");
        var config = new VsrnConfig
        {
            DataName = dataName,
            ImgDim = fc.Dim(1),
            EmbedSize = fc.Dim(0),
            WordDim = text.TryGetValue("embed.weight", out var embed) ? embed.Dim(1) : opt.GetInt("word_dim", 300),
            VocabSize = embed?.Dim(0) ?? opt.GetInt("vocab_size"),
            NumLayers = opt.GetInt("num_layers", 1),
            MaxLen = opt.GetInt("max_len", 60),
            DimHidden = opt.GetInt("dim_hidden", 512),
            DimWord = opt.GetInt("dim_word", 300),
            InputDropoutP = (float)opt.GetDouble("input_dropout_p", 0.2),
            RnnDropoutP = (float)opt.GetDouble("rnn_dropout_p", 0.5),
            RnnType = opt.GetString("rnn_type", "gru"),
            Bidirectional = opt.GetInt("bidirectional", 0),
            NoImgNorm = opt.GetBool("no_imgnorm", false),
            UseAbs = opt.GetBool("use_abs", false),
            Measure = opt.GetString("measure", "cosine"),
            Captioning = false,
        };
        config.Validate();
        if (opt.ContainsKey("dim_vid") && opt.GetInt("dim_vid") != config.EmbedSize)
            throw new InvalidDataException($"dim_vid {opt.GetInt("dim_vid")} differs from embed_size {config.EmbedSize}; the original's caption encoder reads the GCN features, so they must be equal.");
        // The names the image encoder has (they do not depend on the sizes).
        var known = new VsrnImageEncoder(config with { ImgDim = 1, EmbedSize = 1 }, new Rng(0)).StateDict().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in image)
            if (known.Contains(name)) state["img_enc." + name] = t;
        foreach (var (name, t) in text) state["txt_enc." + name] = t;
        return new ImportedModel(config, state);
    }
}
