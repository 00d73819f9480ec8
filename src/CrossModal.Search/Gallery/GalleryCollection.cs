using CrossModal.Models;

namespace CrossModal.Search.Gallery;

/// <summary>
/// One searchable side of a gallery (its images, or its captions): the items, one pooled unit vector per item in
/// a vector index (ids = positions in <see cref="Items"/>) and, for cross-attention models, the items' row sets
/// that re-scoring needs.
/// </summary>
public sealed class GalleryCollection : IDisposable
{
    private readonly List<GalleryItem> _items;

    internal GalleryCollection(string name, List<GalleryItem> items, IVectorIndex vectors, ItemSets? sets)
    {
        Name = name;
        _items = items;
        Vectors = vectors;
        Sets = sets;
    }

    /// <summary>"images" or "captions".</summary>
    public string Name { get; }

    /// <summary>The items, in id order.</summary>
    public IReadOnlyList<GalleryItem> Items => _items;

    /// <summary>Number of items.</summary>
    public int Count => _items.Count;

    /// <summary>The pooled vectors (id i = item i).</summary>
    public IVectorIndex Vectors { get; }

    /// <summary>The float16 row sets (null when the pooled vectors are the model's encodings).</summary>
    internal ItemSets? Sets { get; }

    /// <summary>Item <paramref name="i"/>'s encoded rows as float32 (its row set, or its one vector).</summary>
    internal float[] Rows(int i)
    {
        if (Sets is { } sets)
        {
            var rows = new float[sets.Length(i) * sets.Dimension];
            sets.CopyTo(i, rows);
            return rows;
        }
        throw new InvalidOperationException($"The gallery's {Name} keep no row sets.");
    }

    /// <summary>Appends encoded items (one per entry of <paramref name="items"/>), their pooled vectors and, if kept, their rows.</summary>
    internal void Add(EmbeddingSet encoded, IReadOnlyList<GalleryItem> items, CancellationToken cancellationToken)
    {
        if (encoded.Count != items.Count) throw new ArgumentException($"{encoded.Count} encoded items for {items.Count} gallery items.");
        int d = encoded.Dim;
        var pooled = new float[items.Count * d];
        for (int i = 0; i < items.Count; i++) Pool(encoded.Item(i), d, pooled.AsSpan(i * d, d), $"{Name} item {items[i].Id}");
        foreach (var item in items) item.ToLine(); // refuses tabs and line breaks before anything is added
        Vectors.Add(pooled, cancellationToken);
        if (Sets is { } sets)
            for (int i = 0; i < items.Count; i++) sets.Add(encoded.Item(i));
        _items.AddRange(items);
    }

    /// <summary>
    /// The mean of <paramref name="rows"/> (n x d), L2-normalised, into <paramref name="destination"/>: the vector that
    /// pre-ranks an item of a cross-attention model (for one unit row, the row itself).
    /// </summary>
    public static void Pool(ReadOnlySpan<float> rows, int d, Span<float> destination, string what = "item")
    {
        int n = rows.Length / d;
        destination.Clear();
        for (int r = 0; r < n; r++)
            for (int j = 0; j < d; j++) destination[j] += rows[r * d + j];
        double ss = 0;
        for (int j = 0; j < d; j++) ss += (double)destination[j] * destination[j];
        if (!(ss > 0) || !double.IsFinite(ss)) throw new InvalidDataException($"The encoding of {what} has a zero or non-finite mean vector (norm² {ss}); it cannot be searched.");
        float scale = (float)(1 / Math.Sqrt(ss));
        for (int j = 0; j < d; j++) destination[j] *= scale;
    }

    /// <summary>Disposes the vector index.</summary>
    public void Dispose() => Vectors.Dispose();
}
