using System.Collections;

namespace CrossModal.Checkpoints.Python;

/// <summary>A Python tuple read from a pickle.</summary>
public sealed class PyTuple : IReadOnlyList<object?>
{
    private readonly object?[] _items;

    internal PyTuple(object?[] items) => _items = items;

    /// <summary>The empty tuple.</summary>
    internal static PyTuple Empty { get; } = new(Array.Empty<object?>());

    /// <inheritdoc/>
    public object? this[int index] => _items[index];

    /// <inheritdoc/>
    public int Count => _items.Length;

    /// <inheritdoc/>
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => $"tuple[{Count}]";
}
