using System.Collections;

namespace CrossModal.Checkpoints.Python;

/// <summary>A Python list read from a pickle (read-only once loading has finished).</summary>
public sealed class PyList : IReadOnlyList<object?>
{
    private readonly List<object?> _items = new();

    internal PyList() { }

    internal PyList(IEnumerable<object?> items) => _items.AddRange(items);

    /// <inheritdoc/>
    public object? this[int index] => _items[index];

    /// <inheritdoc/>
    public int Count => _items.Count;

    internal void Add(object? item) => _items.Add(item);

    internal void AddRange(IEnumerable<object?> items) => _items.AddRange(items);

    /// <inheritdoc/>
    public IEnumerator<object?> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => $"list[{Count}]";
}
