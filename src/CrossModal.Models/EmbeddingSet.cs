using CrossModal.Tensors;

namespace CrossModal.Models;

/// <summary>
/// Encoded items for evaluation: item i is a [Length(i), Dim] matrix (one row for a global embedding, R regions
/// for an image, one row per word for a caption), packed without padding so that a 5,000-caption split does not
/// hold 5,000 x max-length rows.
/// </summary>
public sealed class EmbeddingSet
{
    private readonly List<int> _offsets = new() { 0 };
    private float[] _data = Array.Empty<float>();
    private int _used;

    /// <summary>An empty set of <paramref name="dim"/>-wide rows.</summary>
    public EmbeddingSet(int dim) => Dim = dim;

    /// <summary>An empty set with room for <paramref name="capacity"/> floats (no regrowth when the total is known).</summary>
    public EmbeddingSet(int dim, int capacity) : this(dim)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _data = new float[capacity];
    }

    /// <summary>Row width.</summary>
    public int Dim { get; }

    /// <summary>Number of items.</summary>
    public int Count => _offsets.Count - 1;

    /// <summary>Rows of item <paramref name="i"/>.</summary>
    public int Length(int i) => (_offsets[i + 1] - _offsets[i]) / Dim;

    /// <summary>Item <paramref name="i"/> as Length(i) x Dim row-major floats.</summary>
    public ReadOnlySpan<float> Item(int i) => _data.AsSpan(_offsets[i], _offsets[i + 1] - _offsets[i]);

    /// <summary>Items [start, start + count) as one contiguous span (items are packed back to back).</summary>
    public ReadOnlySpan<float> Items(int start, int count) => _data.AsSpan(_offsets[start], _offsets[start + count] - _offsets[start]);

    /// <summary>Appends the first lengths[b] rows of each item of a [B, T, Dim] (or [B, Dim]) tensor.</summary>
    public void AddBatch(Tensor encoded, ReadOnlySpan<int> lengths)
    {
        int b = encoded.Dim(0);
        int t = encoded.Rank == 3 ? encoded.Dim(1) : 1;
        if (encoded.Dim(-1) != Dim) throw new ArgumentException($"Encoded width {encoded.Dim(-1)} differs from the set's {Dim}.");
        var src = encoded.Data;
        for (int i = 0; i < b; i++)
        {
            int len = encoded.Rank == 3 ? lengths[i] : 1;
            if (len < 1 || len > t) throw new ArgumentException($"Item length {len} outside 1..{t}.");
            Append(src.Slice(i * t * Dim, len * Dim));
        }
    }

    /// <summary>Removes every item and keeps the storage, so a set reused as a gather buffer allocates only when it grows.</summary>
    public void Clear()
    {
        _offsets.RemoveRange(1, _offsets.Count - 1);
        _used = 0;
    }

    /// <summary>Appends one item of rows.Length / Dim rows.</summary>
    public void Append(ReadOnlySpan<float> rows)
    {
        if (rows.Length % Dim != 0 || rows.Length == 0) throw new ArgumentException($"{rows.Length} floats are not whole rows of {Dim}.");
        if (_used + rows.Length > _data.Length)
        {
            var grown = new float[Math.Max(_data.Length * 2, _used + rows.Length)];
            _data.AsSpan(0, _used).CopyTo(grown);
            _data = grown;
        }
        rows.CopyTo(_data.AsSpan(_used));
        _used += rows.Length;
        _offsets.Add(_used);
    }
}
