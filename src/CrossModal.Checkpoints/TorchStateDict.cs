using System.Collections;
using CrossModal.Checkpoints.Python;
using CrossModal.Checkpoints.Torch;
using CrossModal.Tensors;

namespace CrossModal.Checkpoints;

/// <summary>
/// A state dict (parameter name -> float32 tensor) in the original order, e.g. <c>fc.weight</c>, <c>fc.bias</c> or
/// <c>embed.weight</c>, <c>rnn.weight_ih_l0</c>, ... It plugs straight into
/// <see cref="Tensors.Nn.Module.LoadStateDict"/>. <see cref="DTypes"/> keeps each entry's stored element type.
/// Lookups that fail name the source ("model_best.pth.tar: model[1]") and the entry.
/// </summary>
public sealed class TorchStateDict : IReadOnlyDictionary<string, Tensor>
{
    private readonly List<string> _names;
    private readonly Dictionary<string, Tensor> _tensors;
    private readonly Dictionary<string, string> _dtypes;

    /// <summary>Builds a state dict from named tensors (float32 unless <paramref name="dtypes"/> says otherwise).</summary>
    /// <param name="entries">Names and tensors, in order; names must be unique.</param>
    /// <param name="source">Where the entries came from, for messages.</param>
    /// <param name="dtypes">Stored element type per name ("float32" when absent).</param>
    public TorchStateDict(IEnumerable<(string Name, Tensor Tensor)> entries, string source, IReadOnlyDictionary<string, string>? dtypes = null)
    {
        Source = source;
        _names = new List<string>();
        _tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        _dtypes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in entries)
        {
            if (!_tensors.TryAdd(name, tensor)) throw new ArgumentException($"{source}: duplicate state entry '{name}'.");
            _names.Add(name);
            _dtypes[name] = dtypes?.GetValueOrDefault(name) ?? "float32";
        }
    }

    /// <summary>Where this state dict came from ("file: model[0]").</summary>
    public string Source { get; }

    /// <summary>Entry names in the original order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Stored element type per entry ("float32", "int64", ...).</summary>
    public IReadOnlyDictionary<string, string> DTypes => _dtypes;

    /// <inheritdoc/>
    public int Count => _names.Count;

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _names;

    /// <inheritdoc/>
    public IEnumerable<Tensor> Values => _names.Select(n => _tensors[n]);

    /// <inheritdoc/>
    public Tensor this[string key] => Get(key);

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _tensors.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, out Tensor value) => _tensors.TryGetValue(key, out value!);

    /// <summary>The entry <paramref name="name"/>, or an <see cref="InvalidDataException"/> listing what is there.</summary>
    public Tensor Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t
            : throw new InvalidDataException($"{Source}: no entry '{name}' (entries: {string.Join(", ", _names.Take(12))}{(_names.Count > 12 ? ", ..." : "")}).");

    /// <summary>The entry <paramref name="name"/>, checked to have exactly <paramref name="shape"/>.</summary>
    public Tensor Get(string name, params int[] shape)
    {
        var t = Get(name);
        if (!t.ShapeSpan.SequenceEqual(shape))
            throw new InvalidDataException($"{Source}: entry '{name}' has shape {Tensor.FormatShape(t.ShapeSpan)}, expected {Tensor.FormatShape(shape)}.");
        return t;
    }

    /// <summary>
    /// The same entries with <paramref name="prefix"/> removed where present (others unchanged), e.g.
    /// <c>StripPrefix("module.")</c> for DataParallel checkpoints.
    /// </summary>
    public TorchStateDict StripPrefix(string prefix) =>
        new(_names.Select(n => (n.StartsWith(prefix, StringComparison.Ordinal) ? n[prefix.Length..] : n, _tensors[n])), Source,
            _names.ToDictionary(n => n.StartsWith(prefix, StringComparison.Ordinal) ? n[prefix.Length..] : n, n => _dtypes[n]));

    /// <summary>Only the entries that start with <paramref name="prefix"/>, with it removed (e.g. "img_enc.").</summary>
    public TorchStateDict SubDict(string prefix)
    {
        var names = _names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        return new(names.Select(n => (n[prefix.Length..], _tensors[n])), $"{Source} [{prefix}*]",
            names.ToDictionary(n => n[prefix.Length..], n => _dtypes[n]));
    }

    /// <summary>The entries with <paramref name="prefix"/> added to every name.</summary>
    public TorchStateDict WithPrefix(string prefix) =>
        new(_names.Select(n => (prefix + n, _tensors[n])), Source, _names.ToDictionary(n => prefix + n, n => _dtypes[n]));

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() =>
        _names.Select(n => new KeyValuePair<string, Tensor>(n, _tensors[n])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => $"{Source}: {Count} entries";

    /// <summary>A state dict from a loaded Python dict whose keys are strings and whose values are tensors.</summary>
    internal static TorchStateDict FromPython(object? value, string source)
    {
        if (value is not PyDict dict) throw new InvalidDataException($"{source} is a {PyValue.TypeName(value)}, expected a state dict (OrderedDict of tensors).");
        var entries = new List<(string, Tensor)>(dict.Count);
        var dtypes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in dict)
        {
            if (k is not string name) throw new InvalidDataException($"{source}: state-dict key {PyValue.Describe(k)} is not a string.");
            if (v is not TorchTensor t) throw new InvalidDataException($"{source}: state-dict entry '{name}' is a {PyValue.TypeName(v)}, expected a tensor.");
            entries.Add((name, t.Value));
            dtypes[name] = t.DType;
        }
        return new TorchStateDict(entries, source, dtypes);
    }
}
