namespace CrossModal.Checkpoints.Python;

/// <summary>
/// An instance of a class the caller declared inert (e.g. VSE++'s <c>__main__.Vocabulary</c>): only its class name
/// and the attributes the pickle set; no code of the class exists or runs.
/// </summary>
public sealed class PyObject : IReadOnlyDictionary<string, object?>
{
    private readonly PyNamespace _attributes = new();

    internal PyObject(string className) => ClassName = className;

    /// <summary>"module.Name" of the pickled class.</summary>
    public string ClassName { get; }

    /// <inheritdoc/>
    public object? this[string key] => _attributes[key];

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _attributes.Keys;

    /// <inheritdoc/>
    public IEnumerable<object?> Values => _attributes.Values;

    /// <inheritdoc/>
    public int Count => _attributes.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _attributes.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, out object? value) => _attributes.TryGetValue(key, out value);

    internal void Set(string name, object? value) => _attributes.Set(name, value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _attributes.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => $"{ClassName}[{Count}]";
}
