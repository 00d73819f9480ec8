using CrossModal.Checkpoints.Python;
using CrossModal.Checkpoints.Torch;

namespace CrossModal.Checkpoints;

/// <summary>
/// A PyTorch checkpoint (<c>model_best.pth.tar</c>, <c>checkpoint.pth</c>) read without Python, in either
/// serialisation (<see cref="TorchCheckpointFormat"/>). The pickle is interpreted by a restricted unpickler that
/// executes nothing: only OrderedDict/dict, argparse.Namespace, torch's tensor/parameter rebuild functions and
/// storage types (CPU and CUDA; float32/64, float16, bfloat16, int64/32/16/8, uint8, bool), set/frozenset, bytes
/// and numpy scalars are reconstructed; any other global is refused with an error naming it. Tensors become
/// contiguous float32 <see cref="Tensors.Tensor"/>s whatever their stored offsets and strides.
/// A corrupt, truncated or hostile file gives one <see cref="InvalidDataException"/> naming the file and the
/// problem, with memory bounded by <see cref="TorchLoadLimits"/>.
/// </summary>
/// <example>
/// <code>
/// var ckpt = TorchCheckpoint.Load("model_best.pth.tar");
/// var opt = ckpt.Options;                       // opt.GetInt("embed_size"), opt.GetString("cross_attn"), ...
/// var (img, txt) = ckpt.ModelStateDicts();      // VSE++/SCAN: [img_enc.state_dict(), txt_enc.state_dict()]
/// imageEncoder.LoadStateDict(img);
/// textEncoder.LoadStateDict(txt);
/// </code>
/// </example>
public sealed class TorchCheckpoint
{
    private TorchCheckpoint(string path, TorchCheckpointFormat format, object? root)
    {
        Path = path;
        Format = format;
        Root = root;
    }

    /// <summary>The file (or the name given to <see cref="Load(Stream, string, TorchLoadLimits?, CancellationToken)"/>).</summary>
    public string Path { get; }

    /// <summary>Zip or legacy serialisation.</summary>
    public TorchCheckpointFormat Format { get; }

    /// <summary>
    /// The unpickled object (usually a <see cref="PyDict"/> with epoch, model, best_rsum, opt, Eiters); values are
    /// the types listed in <see cref="PyValue"/>.
    /// </summary>
    public object? Root { get; }

    /// <summary>The top-level keys when the root is a dict.</summary>
    public IReadOnlyList<string> Keys => Root is PyDict d ? d.Keys.OfType<string>().ToList() : Array.Empty<string>();

    /// <summary>
    /// Whether <paramref name="path"/> looks like a PyTorch checkpoint (a zip archive or a pickle), judged by its
    /// first bytes; a safetensors file (8-byte length, then '{') does not. Does not validate the file.
    /// </summary>
    public static bool IsTorchCheckpoint(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 16);
        Span<byte> head = stackalloc byte[9];
        int n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (LooksLikeSafetensors(head[..n], fs.Length)) return false;
        return (n >= 2 && head[0] == (byte)'P' && head[1] == (byte)'K') || (n >= 1 && head[0] == 0x80);
    }

    // safetensors: an 8-byte little-endian header length (whose first byte may well be 0x80), then '{'.
    private static bool LooksLikeSafetensors(ReadOnlySpan<byte> head, long length) =>
        head.Length >= 9 && head[8] == (byte)'{' && System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(head) <= (ulong)Math.Max(0, length - 8);

    /// <summary>Reads a checkpoint file.</summary>
    public static TorchCheckpoint Load(string path, TorchLoadLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new InvalidDataException($"{path}: is a directory, expected a checkpoint file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Load(stream, path, limits, cancellationToken);
    }

    /// <summary>Reads a checkpoint from a seekable stream (from its beginning); <paramref name="name"/> names it in messages.</summary>
    public static TorchCheckpoint Load(Stream stream, string name, TorchLoadLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("The checkpoint stream must be readable and seekable.", nameof(stream));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Reading PyTorch checkpoints needs a little-endian machine.");
        limits ??= TorchLoadLimits.Default;
        stream.Position = 0;
        long length = stream.Length;
        var format = Sniff(stream, name, length);
        stream.Position = 0;
        var (root, tensors) = format == TorchCheckpointFormat.Zip
            ? ZipCheckpointReader.Read(stream, name, limits, cancellationToken)
            : LegacyCheckpointReader.Read(stream, name, limits, cancellationToken);
        Materialize(tensors, limits.TensorElementBudget(length), name, cancellationToken);
        return new TorchCheckpoint(name, format, root);
    }

    /// <summary>Reads a checkpoint held in memory.</summary>
    public static TorchCheckpoint Parse(byte[] bytes, string name, TorchLoadLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var ms = new MemoryStream(bytes, writable: false);
        return Load(ms, name, limits, cancellationToken);
    }

    /// <summary>Whether the root dict has <paramref name="key"/>.</summary>
    public bool Contains(string key) => Root is PyDict d && d.ContainsKey(key);

    /// <summary>The root dict's entry <paramref name="key"/>, or an error listing the keys that exist.</summary>
    public object? Get(string key)
    {
        if (Root is not PyDict d) throw new InvalidDataException($"{Path}: the checkpoint is a {PyValue.TypeName(Root)}, not a dict with '{key}'.");
        return d.TryGetValue(key, out var v) ? v
            : throw new InvalidDataException($"{Path}: the checkpoint has no '{key}' entry (keys: {string.Join(", ", Keys)}).");
    }

    /// <summary>The original command-line options (<c>opt</c>, an argparse.Namespace).</summary>
    public CheckpointOptions Options => CheckpointOptions.FromPython(Get("opt"), $"{Path}: opt");

    /// <summary>The saved epoch, when present.</summary>
    public int? Epoch => Contains("epoch") && Get("epoch") is long e && e is >= int.MinValue and <= int.MaxValue ? (int)e : null;

    /// <summary>The best validation rsum, when present (stored as a float or a numpy float64).</summary>
    public double? BestRsum => Contains("best_rsum") ? Get("best_rsum") switch { double d => d, long l => l, _ => null } : null;

    /// <summary>The training iteration count, when present.</summary>
    public long? Eiters => Contains("Eiters") && Get("Eiters") is long e ? e : null;

    /// <summary>
    /// The model weights as state dicts: the <c>model</c> entry when it is a list of dicts (VSE++, SCAN, VSRN,
    /// NAAF, SGRAF) or a single dict (IMRAM: one dict with <c>module.</c> prefixes; see
    /// <see cref="TorchStateDict.StripPrefix"/>); else a <c>state_dict</c> entry; else the root itself when it is a
    /// bare state dict (<c>torch.save(model.state_dict())</c>).
    /// </summary>
    public TorchStateDictList ModelStateDicts()
    {
        string key = Contains("model") ? "model" : Contains("state_dict") ? "state_dict" : "";
        object? value = key.Length > 0 ? Get(key) : Root;
        string source = key.Length > 0 ? $"{Path}: {key}" : Path;
        var list = value switch
        {
            PyList or PyTuple => ((IReadOnlyList<object?>)value).Select((v, i) => TorchStateDict.FromPython(v, $"{source}[{i}]")).ToList(),
            PyDict when key.Length > 0 || IsBareStateDict(value) => new List<TorchStateDict> { TorchStateDict.FromPython(value, source) },
            _ => throw new InvalidDataException($"{Path}: no model weights found: expected a 'model' entry (list of state dicts) or a state dict (keys: {string.Join(", ", Keys)})."),
        };
        return new TorchStateDictList(list, source);
    }

    private static bool IsBareStateDict(object? value) =>
        value is PyDict { Count: > 0 } d && d.Values.All(v => v is TorchTensor);

    private static TorchCheckpointFormat Sniff(Stream stream, string name, long length)
    {
        Span<byte> head = stackalloc byte[9];
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (n == 0) throw new InvalidDataException($"{name}: the file is empty.");
        if (LooksLikeSafetensors(head[..n], length))
            throw new InvalidDataException($"{name}: a safetensors file, not a PyTorch checkpoint (open it with CrossModal's checkpoint loader).");
        if (n >= 2 && head[0] == (byte)'P' && head[1] == (byte)'K') return TorchCheckpointFormat.Zip;
        if (head[0] == 0x80) return TorchCheckpointFormat.Legacy;
        if (length >= 262)
        {
            Span<byte> ustar = stackalloc byte[5];
            stream.Position = 257;
            if (stream.ReadAtLeast(ustar, 5, throwOnEndOfStream: false) == 5 && ustar.SequenceEqual("ustar"u8))
                throw new InvalidDataException($"{name}: a tar archive (the pre-0.1.10 torch format), which is not supported; re-save it with a newer torch.");
        }
        throw new InvalidDataException($"{name}: not a PyTorch checkpoint: starts with bytes {Convert.ToHexString(head[..Math.Min(n, 4)])}, expected a zip archive (PK) or a pickle (80).");
    }

    private static void Materialize(List<TorchTensor> tensors, long budget, string name, CancellationToken cancellationToken)
    {
        long used = 0;
        foreach (var t in tensors)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long n = t.ElementCountUnchecked;
            if (n > budget - used)
                throw new InvalidDataException($"{name}: tensors would expand to more than {budget} elements in total (tensor {t}); a corrupt size or stride.");
            used += n;
            t.Materialize(name);
        }
    }
}
