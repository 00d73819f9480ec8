using System.Collections;

namespace CrossModal.Checkpoints.Python;

/// <summary>A Python set or frozenset read from a pickle (elements in pickle order, duplicates removed).</summary>
public sealed class PySet : IReadOnlyCollection<object?>
{
    private readonly List<object?> _items = new();
    private readonly HashSet<object?> _seen = new(PyKeyComparer.Instance);

    internal PySet(bool frozen) => IsFrozen = frozen;

    /// <summary>True for a frozenset.</summary>
    public bool IsFrozen { get; }

    /// <inheritdoc/>
    public int Count => _items.Count;

    /// <summary>Whether the set holds <paramref name="item"/> (Python equality: 1 == 1.0 == True).</summary>
    public bool Contains(object? item) => _seen.Contains(item);

    internal void Add(object? item)
    {
        if (_seen.Add(item)) _items.Add(item);
    }

    /// <inheritdoc/>
    public IEnumerator<object?> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => $"{(IsFrozen ? "frozenset" : "set")}[{Count}]";
}
