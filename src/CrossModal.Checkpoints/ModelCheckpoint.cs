using System.Buffers.Binary;
using System.Globalization;
using CrossModal.Models;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;

namespace CrossModal.Checkpoints;

/// <summary>
/// A trained two-encoder model (VSE++, SCAN, ...) as CrossModal keeps it: the method, the original options, and
/// the image and text encoder state dicts under their original PyTorch names. <see cref="Load"/> reads either an
/// original PyTorch checkpoint (zip or legacy <c>.pth.tar</c>) or CrossModal's own safetensors checkpoint;
/// <see cref="Save"/> always writes the safetensors checkpoint, which Python's <c>safetensors</c> reads with the
/// original names and shapes.
/// </summary>
/// <remarks>
/// Safetensors checkpoint, format version 1:
/// tensors <c>img_enc.&lt;name&gt;</c> and <c>txt_enc.&lt;name&gt;</c> (the original state-dict names and shapes, F32;
/// int64 buffers as I64); string metadata <c>format</c> = "crossmodal-checkpoint", <c>format_version</c> = "1",
/// <c>method</c> ("vsepp", "scan", ...), <c>opt</c> = the options as one JSON object with the original names, and
/// optionally <c>epoch</c>, <c>best_rsum</c>, <c>Eiters</c> (decimal strings) and <c>source</c>.
/// tools/reference/checkpoint_fixtures.py (mode check-safetensors) reads this format back into PyTorch.
/// </remarks>
/// <example>
/// <code>
/// var ckpt = ModelCheckpoint.Load("model_best.pth.tar");   // or "model.safetensors"
/// MatchingModel model = ckpt.CreateModel();                // VseModel or ScanModel, weights loaded, eval mode
/// ckpt.Save("model.safetensors");
/// ModelCheckpoint.FromModel(model, epoch: 3).Save("trained.safetensors");
/// </code>
/// </example>
public sealed class ModelCheckpoint
{
    /// <summary>The <c>format</c> metadata value of CrossModal safetensors checkpoints.</summary>
    public const string FormatName = "crossmodal-checkpoint";

    /// <summary>The current <c>format_version</c>.</summary>
    public const int FormatVersion = 1;

    /// <summary>Tensor-name prefix of the image encoder's entries in the safetensors checkpoint.</summary>
    public const string ImagePrefix = "img_enc.";

    /// <summary>Tensor-name prefix of the text encoder's entries in the safetensors checkpoint.</summary>
    public const string TextPrefix = "txt_enc.";

    /// <summary>A checkpoint from its parts (e.g. after training).</summary>
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
    /// Reads an original PyTorch checkpoint or a CrossModal safetensors checkpoint (told apart by content, not
    /// name). <paramref name="method"/> overrides the method inferred from an original checkpoint's options.
    /// </summary>
    public static ModelCheckpoint Load(string path, string? method = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        return IsSafetensors(path) ? ReadSafetensors(path) : FromTorch(TorchCheckpoint.Load(path, cancellationToken: cancellationToken), method);
    }

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

    /// <summary>
    /// A checkpoint of <paramref name="model"/>: its "img_enc."/"txt_enc." state under the original names and its
    /// configuration as options with the original flag names (plus any <paramref name="extraOptions"/>, e.g. the
    /// training settings), ready for <see cref="Save"/>.
    /// </summary>
    public static ModelCheckpoint FromModel(MatchingModel model, IEnumerable<KeyValuePair<string, object?>>? extraOptions = null,
        int? epoch = null, double? bestRsum = null, long? eiters = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var c = model.Config;
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in extraOptions ?? []) values[k] = v;
        values["img_dim"] = (long)c.ImgDim;
        values["embed_size"] = (long)c.EmbedSize;
        values["word_dim"] = (long)c.WordDim;
        values["vocab_size"] = (long)c.VocabSize;
        values["num_layers"] = (long)c.NumLayers;
        values["no_imgnorm"] = c.NoImgNorm;
        values["no_txtnorm"] = c.NoTxtNorm;
        values["bi_gru"] = c.BiGru;
        values["precomp_enc_type"] = c.PrecompEncType;
        values["cross_attn"] = c.CrossAttn;
        values["raw_feature_norm"] = c.RawFeatureNorm;
        values["agg_func"] = c.AggFunc;
        values["lambda_softmax"] = (double)c.LambdaSoftmax;
        values["lambda_lse"] = (double)c.LambdaLse;
        if (c.Model == "vsepp")
        {
            values["measure"] = "cosine";
            values["use_abs"] = false;
        }
        var image = new List<(string, Tensor)>();
        var text = new List<(string, Tensor)>();
        foreach (var (name, t) in model.StateDict())
        {
            if (name.StartsWith(ImagePrefix, StringComparison.Ordinal)) image.Add((name[ImagePrefix.Length..], t));
            else if (name.StartsWith(TextPrefix, StringComparison.Ordinal)) text.Add((name[TextPrefix.Length..], t));
            else throw new ArgumentException($"Model entry '{name}' is in neither {ImagePrefix} nor {TextPrefix}; format version {FormatVersion} stores two encoders.");
        }
        return new ModelCheckpoint(c.Model, new CheckpointOptions(values, "model options"),
            new TorchStateDict(image, ImagePrefix + "*"), new TorchStateDict(text, TextPrefix + "*"), epoch, bestRsum, eiters);
    }

    /// <summary>Writes the safetensors checkpoint (format version 1) atomically.</summary>
    public void Save(string path)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["method"] = Method,
            ["opt"] = Options.ToJson(),
        };
        if (Epoch is { } e) metadata["epoch"] = e.ToString(CultureInfo.InvariantCulture);
        if (BestRsum is { } r) metadata["best_rsum"] = r.ToString("R", CultureInfo.InvariantCulture);
        if (Eiters is { } it) metadata["Eiters"] = it.ToString(CultureInfo.InvariantCulture);
        if (Source is not null) metadata["source"] = System.IO.Path.GetFileName(Source);
        var tensors = new List<(string, Tensor)>();
        var int64 = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (prefix, dict) in new[] { (ImagePrefix, Image), (TextPrefix, Text) })
        {
            foreach (var name in dict.Names)
            {
                tensors.Add((prefix + name, dict[name]));
                if (dict.DTypes[name] is "int64" or "int32" or "int16" or "int8" or "uint8") int64.Add(prefix + name);
            }
        }
        Safetensors.Write(path, tensors, metadata, int64);
    }

    private static bool IsSafetensors(string path)
    {
        // safetensors: 8-byte little-endian header length, then a JSON object. torch files start with "PK" or 0x80.
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> head = stackalloc byte[9];
        if (fs.ReadAtLeast(head, 9, throwOnEndOfStream: false) < 9) return false;
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(head);
        return head[8] == (byte)'{' && n <= (ulong)fs.Length - 8;
    }

    private static ModelCheckpoint ReadSafetensors(string path)
    {
        var file = Safetensors.Read(path);
        var meta = file.Metadata;
        string Meta(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new InvalidDataException($"{path}: safetensors metadata has no '{key}'; not a CrossModal checkpoint (expected format '{FormatName}').");
        if (Meta("format") != FormatName) throw new InvalidDataException($"{path}: metadata format is '{meta["format"]}', expected '{FormatName}'.");
        if (!int.TryParse(Meta("format_version"), NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version < 1 || version > FormatVersion)
            throw new InvalidDataException($"{path}: format_version '{meta["format_version"]}' is not supported (this build reads 1..{FormatVersion}).");
        var options = CheckpointOptions.FromJson(Meta("opt"), $"{path}: opt");
        var image = new List<(string, Tensor)>();
        var text = new List<(string, Tensor)>();
        var dtypes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in file.Order)
        {
            if (name.StartsWith(ImagePrefix, StringComparison.Ordinal)) image.Add((name[ImagePrefix.Length..], file.Tensors[name]));
            else if (name.StartsWith(TextPrefix, StringComparison.Ordinal)) text.Add((name[TextPrefix.Length..], file.Tensors[name]));
            else throw new InvalidDataException($"{path}: tensor '{name}' has neither the '{ImagePrefix}' nor the '{TextPrefix}' prefix.");
            dtypes[name] = SafetensorsDType(file.DTypes[name]);
        }
        var imageDTypes = image.ToDictionary(e => e.Item1, e => dtypes[ImagePrefix + e.Item1]);
        var textDTypes = text.ToDictionary(e => e.Item1, e => dtypes[TextPrefix + e.Item1]);
        return new ModelCheckpoint(Meta("method"), options,
            new TorchStateDict(image, $"{path}: {ImagePrefix}*", imageDTypes),
            new TorchStateDict(text, $"{path}: {TextPrefix}*", textDTypes),
            OptionalInt(meta, "epoch", path), OptionalDouble(meta, "best_rsum", path), OptionalLong(meta, "Eiters", path), path);
    }

    private static string SafetensorsDType(string dtype) => dtype switch
    {
        "F32" => "float32",
        "F64" => "float64",
        "F16" => "float16",
        "BF16" => "bfloat16",
        "I64" => "int64",
        "I32" => "int32",
        "I16" => "int16",
        "I8" => "int8",
        "U8" => "uint8",
        "BOOL" => "bool",
        _ => dtype,
    };

    private static int? OptionalInt(IReadOnlyDictionary<string, string> meta, string key, string path) =>
        meta.TryGetValue(key, out var s) ? int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v
            : throw new InvalidDataException($"{path}: metadata '{key}' = '{s}' is not an integer.") : null;

    private static long? OptionalLong(IReadOnlyDictionary<string, string> meta, string key, string path) =>
        meta.TryGetValue(key, out var s) ? long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v
            : throw new InvalidDataException($"{path}: metadata '{key}' = '{s}' is not an integer.") : null;

    private static double? OptionalDouble(IReadOnlyDictionary<string, string> meta, string key, string path) =>
        meta.TryGetValue(key, out var s) ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new InvalidDataException($"{path}: metadata '{key}' = '{s}' is not a number.") : null;
}
