using System.Collections;

namespace CrossModal.Checkpoints.Python;

/// <summary>
/// A Python dict or collections.OrderedDict read from a pickle: entries in insertion order, keys compared with
/// Python's equality (a repeated key replaces the value in place, as in Python). Instance attributes that a
/// pickle attached with BUILD (PyTorch's state-dict <c>_metadata</c>) are in <see cref="Attributes"/>.
/// </summary>
public sealed class PyDict : IReadOnlyCollection<KeyValuePair<object?, object?>>
{
    private readonly List<object?> _keys = new();
    private readonly List<object?> _values = new();
    private readonly Dictionary<KeyBox, int> _index = new(KeyBoxComparer.Instance);
    private Dictionary<string, object?>? _attributes;

    internal PyDict(bool ordered) => IsOrdered = ordered;

    /// <summary>True for collections.OrderedDict, false for a plain dict (both keep insertion order).</summary>
    public bool IsOrdered { get; }

    /// <inheritdoc/>
    public int Count => _keys.Count;

    /// <summary>Keys in insertion order.</summary>
    public IReadOnlyList<object?> Keys => _keys;

    /// <summary>Values in insertion order.</summary>
    public IReadOnlyList<object?> Values => _values;

    /// <summary>Instance attributes (empty for a plain dict).</summary>
    public IReadOnlyDictionary<string, object?> Attributes =>
        (IReadOnlyDictionary<string, object?>?)_attributes ?? new Dictionary<string, object?>();

    /// <summary>Looks a key up (Python equality: 1, 1.0 and True are the same key).</summary>
    public bool TryGetValue(object? key, out object? value)
    {
        if (_index.TryGetValue(new KeyBox(key), out int i))
        {
            value = _values[i];
            return true;
        }
        value = null;
        return false;
    }

    /// <summary>Whether <paramref name="key"/> is present.</summary>
    public bool ContainsKey(object? key) => _index.ContainsKey(new KeyBox(key));

    /// <summary>The value under <paramref name="key"/>; <see cref="KeyNotFoundException"/> when absent.</summary>
    public object? this[object? key] =>
        TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"dict has no key {PyValue.Describe(key)}.");

    internal void Set(object? key, object? value)
    {
        var box = new KeyBox(key);
        if (_index.TryGetValue(box, out int i))
        {
            _values[i] = value;
            return;
        }
        _index.Add(box, _keys.Count);
        _keys.Add(key);
        _values.Add(value);
    }

    internal void SetAttribute(string name, object? value) => (_attributes ??= new Dictionary<string, object?>(StringComparer.Ordinal))[name] = value;

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<object?, object?>> GetEnumerator()
    {
        for (int i = 0; i < _keys.Count; i++) yield return new KeyValuePair<object?, object?>(_keys[i], _values[i]);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => $"{(IsOrdered ? "OrderedDict" : "dict")}[{Count}]";

    // Dictionary<TKey,...> rejects null keys; Python allows None as a key, so keys are boxed.
    private readonly record struct KeyBox(object? Value);

    private sealed class KeyBoxComparer : IEqualityComparer<KeyBox>
    {
        public static KeyBoxComparer Instance { get; } = new();

        public bool Equals(KeyBox x, KeyBox y) => PyKeyComparer.Instance.Equals(x.Value, y.Value);

        public int GetHashCode(KeyBox obj) => PyKeyComparer.Instance.GetHashCode(obj.Value);
    }
}
