using CrossModal.Models.Encoders;
using CrossModal.Models.Files;
using CrossModal.Tensors;

namespace CrossModal.Models.Naaf;

/// <summary>NAAF, Negative-Aware Attention Framework (Zhang et al., CVPR 2022; CrossmodalGroup/NAAF) on region features.</summary>
public sealed class NaafFamily : ModelFamily<NaafConfig, NaafModel>
{
    /// <summary>The family's name.</summary>
    public const string FamilyName = "naaf";

    /// <inheritdoc/>
    public override string Name => FamilyName;

    /// <inheritdoc/>
    public override string Description => "NAAF (Zhang et al., CVPR 2022): negative-aware text-to-image attention with a learned mismatch threshold";

    /// <inheritdoc/>
    protected override NaafConfig Defaults => new();

    /// <summary>NAAF's train.py defaults: 20 epochs, lr 5e-4, lr_update 20 (no decay), hardest negatives always.</summary>
    public override Objectives.TrainingRecipe DefaultRecipe => new() { MaxViolation = true, NumEpochs = 20, LearningRate = 5e-4f, LrUpdate = 20 };

    /// <summary>The NAAF README's command lines: λ 20, 20 epochs, lr 5e-4 decayed at 10; batch 128 (Flickr30K) or 256 (COCO).</summary>
    public override IReadOnlyList<Preset> Presets { get; } =
    [
        Naaf("naaf-f30k", "NAAF (Flickr30K): λ 20, α 2, 20 epochs, lr 5e-4 decayed at 10, batch 128", 128),
        Naaf("naaf-coco", "NAAF (COCO): λ 20, α 2, 20 epochs, lr 5e-4 decayed at 10, batch 256", 256),
    ];

    private static Preset Naaf(string name, string description, int batch) =>
        Preset.For<NaafConfig>(FamilyName, name, description,
            c => c with { LambdaSoftmax = 20f, Alpha = 2f, EmbedSize = 1024 },
            r => r with { MaxViolation = true, NumEpochs = 20, LrUpdate = 10, LearningRate = 5e-4f, BatchSize = batch });

    /// <inheritdoc/>
    public override NaafModel Create(NaafConfig config, Rng rng) => new(config, rng);

    /// <summary>The hinge loss on the training forward (which learns the threshold), reporting the threshold's trajectory.</summary>
    public override Objectives.TrainingObjective CreateObjective(RetrievalModel model, Objectives.TrainingRecipe recipe) =>
        new NaafObjective((NaafModel)model, recipe);

    /// <summary>
    /// A new GloVe run starts its table from <see cref="NaafConfig.GlovePath"/> (required: the original always loads
    /// its GloVe file); the table must have one row per vocabulary id and word_dim columns.
    /// </summary>
    public override void InitializeForTraining(RetrievalModel model)
    {
        var naaf = (NaafModel)model;
        var c = naaf.NaafConfig;
        if (c.PrecompEncTextType != TextEncoderType.Glove) return;
        if (c.GlovePath is null)
            throw new ArgumentException("precomp_enc_text_type GloVe starts from a GloVe table: pass --glove-path (NAAF's glove_840B_{f30k,coco}_precomp.json.pkl, or a .npy matrix, one row per id of the --vocab vocabulary).");
        naaf.LoadGlove(GloveTable.Load(c.GlovePath, c.VocabSize, c.WordDim));
    }

    /// <summary>NAAF's train.py has <c>--thres_safe</c> and <c>--precomp_enc_text_type</c>.</summary>
    public override bool Recognizes(OriginalCheckpoint checkpoint) =>
        checkpoint.Options.ContainsKey("thres_safe") && checkpoint.Options.ContainsKey("precomp_enc_text_type");

    /// <summary>
    /// Options map one-to-one (absent ones take train.py's defaults); the threshold state comes from opt (thres,
    /// thres_safe, mean/stnd pos/neg; thresholds outside [0, 1] are refused); sizes fall back to the weights' shapes.
    /// </summary>
    public override ImportedModel Import(OriginalCheckpoint checkpoint)
    {
        var opt = checkpoint.Options;
        var (image, text) = checkpoint.Weights;
        var textType = FlagValues.Parse<TextEncoderType>(opt.GetString("precomp_enc_text_type", "GloVe"), "precomp_enc_text_type");
        string table = textType == TextEncoderType.Glove ? "embed.glove.weight" : "embed.weight";
        if (!text.TryGetValue(table, out var embed))
            throw new InvalidDataException($"precomp_enc_text_type is {(textType == TextEncoderType.Glove ? "GloVe" : "basic")} but the text state dict has no '{table}' (it has {string.Join(", ", text.Keys.Take(4))}).");
        var config = new NaafConfig
        {
            ImgDim = image.TryGetValue("fc.weight", out var fc) ? fc.Dim(1) : image.TryGetValue("fc.weight_v", out var fv) ? fv.Dim(1) : opt.GetInt("img_dim"),
            EmbedSize = opt.GetInt("embed_size"),
            WordDim = embed.Dim(1),
            VocabSize = embed.Dim(0),
            NumLayers = opt.GetInt("num_layers", 1),
            NoImgNorm = opt.GetBool("no_imgnorm", false),
            NoTxtNorm = opt.GetBool("no_txtnorm", false),
            PrecompEncType = FlagValues.Parse<ImageEncoderType>(opt.GetString("precomp_enc_type", "basic"), "precomp_enc_type"),
            PrecompEncTextType = textType,
            LambdaSoftmax = (float)opt.GetDouble("lambda_softmax", 20.0),
            Alpha = (float)opt.GetDouble("alpha", 2.0),
        };
        var state = checkpoint.EncoderState();
        foreach (var key in ThresholdState.Keys)
        {
            double v = opt.GetDouble(key, 0.0);
            if (!double.IsFinite(v)) throw new InvalidDataException($"opt.{key} is {v}, expected a finite number.");
            if (key is "thres" or "thres_safe" && (v < 0 || v > 1))
                throw new InvalidDataException($"opt.{key} = {v} lies outside [0, 1]; NAAF's learning rule only produces thresholds in [0, 1], so the checkpoint is damaged or not NAAF's.");
            state[key] = Tensor.FromArray([(float)v]);
        }
        return new ImportedModel(config, state);
    }
}
