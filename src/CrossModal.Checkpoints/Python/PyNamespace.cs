using System.Collections;

namespace CrossModal.Checkpoints.Python;

/// <summary>
/// An argparse.Namespace read from a pickle: the attributes (the original command-line options, e.g.
/// <c>embed_size</c>, <c>cross_attn</c>) in the order the pickle set them.
/// </summary>
public sealed class PyNamespace : IReadOnlyDictionary<string, object?>
{
    private readonly List<string> _names = new();
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);

    internal PyNamespace() { }

    /// <inheritdoc/>
    public object? this[string key] => _values[key];

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _names;

    /// <inheritdoc/>
    public IEnumerable<object?> Values => _names.Select(n => _values[n]);

    /// <inheritdoc/>
    public int Count => _names.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _values.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, out object? value) => _values.TryGetValue(key, out value);

    internal void Set(string name, object? value)
    {
        if (!_values.ContainsKey(name)) _names.Add(name);
        _values[name] = value;
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() =>
        _names.Select(n => new KeyValuePair<string, object?>(n, _values[n])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => $"Namespace[{Count}]";
}
