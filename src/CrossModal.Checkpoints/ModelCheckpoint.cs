using CrossModal.Models;
using CrossModal.Tensors;

namespace CrossModal.Checkpoints;

/// <summary>
/// A model from an original PyTorch checkpoint (VSE++, SCAN; zip or legacy <c>.pth.tar</c>) as CrossModal uses it:
/// the method, the original options, and the image and text encoder state dicts under their original names.
/// <see cref="CreateModel"/> turns it into a <see cref="MatchingModel"/>; CrossModal's own safetensors checkpoint
/// (CrossModal.Training.Checkpoint) then stores that model, under the same names with "img_enc."/"txt_enc.".
/// </summary>
/// <example>
/// <code>
/// var ckpt = ModelCheckpoint.Load("model_best.pth.tar");
/// MatchingModel model = ckpt.CreateModel();   // VseModel or ScanModel, weights loaded strictly, eval mode
/// </code>
/// </example>
public sealed class ModelCheckpoint
{
    /// <summary>Name prefix of the image encoder's entries in a CrossModal model (and its safetensors checkpoint).</summary>
    public const string ImagePrefix = "img_enc.";

    /// <summary>Name prefix of the text encoder's entries in a CrossModal model (and its safetensors checkpoint).</summary>
    public const string TextPrefix = "txt_enc.";

    /// <summary>A checkpoint from its parts.</summary>
    public ModelCheckpoint(string method, CheckpointOptions options, TorchStateDict image, TorchStateDict text,
        int? epoch = null, double? bestRsum = null, long? eiters = null, string? source = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        Method = method;
        Options = options ?? throw new ArgumentNullException(nameof(options));
        Image = image ?? throw new ArgumentNullException(nameof(image));
        Text = text ?? throw new ArgumentNullException(nameof(text));
        Epoch = epoch;
        BestRsum = bestRsum;
        Eiters = eiters;
        Source = source;
    }

    /// <summary>"vsepp", "scan", ... (see <see cref="InferMethod"/> for original checkpoints).</summary>
    public string Method { get; }

    /// <summary>The original options (<c>opt</c>).</summary>
    public CheckpointOptions Options { get; }

    /// <summary>The image encoder's state dict (<c>fc.weight</c>, <c>fc.bias</c>, ...).</summary>
    public TorchStateDict Image { get; }

    /// <summary>The text encoder's state dict (<c>embed.weight</c>, <c>rnn.weight_ih_l0</c>, ...).</summary>
    public TorchStateDict Text { get; }

    /// <summary>The saved epoch, if known.</summary>
    public int? Epoch { get; }

    /// <summary>The best validation rsum, if known.</summary>
    public double? BestRsum { get; }

    /// <summary>The iteration count, if known.</summary>
    public long? Eiters { get; }

    /// <summary>The file this checkpoint was read from (null for one built in memory).</summary>
    public string? Source { get; }

    /// <summary>
    /// The method an original checkpoint belongs to, from its options: SCAN's parser has <c>cross_attn</c>,
    /// VSE++'s has <c>measure</c>; null when neither is present.
    /// </summary>
    public static string? InferMethod(CheckpointOptions options) =>
        options.ContainsKey("cross_attn") ? "scan" : options.ContainsKey("measure") ? "vsepp" : null;

    /// <summary>
    /// Reads an original PyTorch checkpoint. <paramref name="method"/> overrides the method inferred from its options.
    /// </summary>
    public static ModelCheckpoint Load(string path, string? method = null, CancellationToken cancellationToken = default) =>
        FromTorch(TorchCheckpoint.Load(path, cancellationToken: cancellationToken), method);

    /// <summary>The model in an original checkpoint whose <c>model</c> entry is <c>[img_sd, txt_sd]</c>.</summary>
    public static ModelCheckpoint FromTorch(TorchCheckpoint checkpoint, string? method = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var options = checkpoint.Options;
        method ??= InferMethod(options)
            ?? throw new InvalidDataException($"{checkpoint.Path}: cannot tell the method from opt (no 'cross_attn' or 'measure'); name it explicitly.");
        var (image, text) = checkpoint.ModelStateDicts();
        return new ModelCheckpoint(method, options, image, text, checkpoint.Epoch, checkpoint.BestRsum, checkpoint.Eiters, checkpoint.Path);
    }

    /// <summary>
    /// The model configuration the options describe. The original option names map one-to-one; an option the
    /// checkpoint lacks takes the original parser's default, and the vocabulary and feature sizes fall back to the
    /// weights' shapes. Options CrossModal's models cannot honour (VSE++'s order embeddings: <c>measure</c> other than
    /// cosine, <c>use_abs</c>) are an <see cref="InvalidDataException"/> rather than silently ignored.
    /// </summary>
    public ModelConfig ToModelConfig()
    {
        var opt = Options;
        string where = Source ?? "checkpoint";
        if (Method is not ("vsepp" or "scan")) throw new InvalidDataException($"{where}: method '{Method}' has no CrossModal model (vsepp, scan).");
        string measure = opt.GetString("measure", "cosine");
        if (measure != "cosine" || opt.GetBool("use_abs", false))
            throw new InvalidDataException($"{where}: measure '{measure}' with use_abs={opt.GetBool("use_abs", false)} is not supported; CrossModal's VSE++ scores by cosine.");
        int vocab = Text.TryGetValue("embed.weight", out var embed) ? embed.Dim(0) : opt.GetInt("vocab_size");
        int imgDim = Image.TryGetValue("fc.weight", out var fc) ? fc.Dim(1) : Image.TryGetValue("fc.weight_v", out var fv) ? fv.Dim(1) : opt.GetInt("img_dim");
        bool scan = Method == "scan";
        var config = new ModelConfig
        {
            Model = Method,
            ImgDim = imgDim,
            EmbedSize = opt.GetInt("embed_size"),
            WordDim = opt.GetInt("word_dim"),
            VocabSize = vocab,
            NumLayers = opt.GetInt("num_layers", 1),
            NoImgNorm = opt.GetBool("no_imgnorm", false),
            NoTxtNorm = opt.GetBool("no_txtnorm", false),
            BiGru = opt.GetBool("bi_gru", false),
            PrecompEncType = opt.GetString("precomp_enc_type", "basic"),
            CrossAttn = scan ? opt.GetString("cross_attn") : "t2i",
            RawFeatureNorm = opt.GetString("raw_feature_norm", "clipped_l2norm"),
            AggFunc = opt.GetString("agg_func", "LogSumExp"),
            LambdaSoftmax = (float)opt.GetDouble("lambda_softmax", 9.0),
            LambdaLse = (float)opt.GetDouble("lambda_lse", 6.0),
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{where}: {e.Message}");
        }
        return config;
    }

    /// <summary>
    /// The model this checkpoint describes, weights loaded (strictly: a missing, extra or mis-shaped entry is an
    /// error naming it), in evaluation mode.
    /// </summary>
    public MatchingModel CreateModel()
    {
        var model = ModelFactory.Create(ToModelConfig(), new Rng(0));
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in Image) state[ImagePrefix + name] = t;
        foreach (var (name, t) in Text) state[TextPrefix + name] = t;
        try
        {
            model.LoadStateDict(state);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{Source ?? "checkpoint"}: {e.Message}");
        }
        model.Eval();
        return model;
    }
}
