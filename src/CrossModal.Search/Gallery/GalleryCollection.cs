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

    /// <summary>
    /// Every item's encoding in id order, as float32: the float16 row sets widened (cross-attention galleries), or the
    /// stored unit vectors, which are the model's own encodings when the gallery's scores are inner products
    /// (<see cref="GalleryMetadata.Direct"/>). What a server that scores every item with the model keeps in memory.
    /// An HNSW structure keeps its vectors inside the graph, so a single-vector HNSW gallery cannot give them.
    /// </summary>
    public EmbeddingSet Encodings(CancellationToken cancellationToken = default)
    {
        if (Sets is { } sets)
        {
            long floats = 0;
            for (int i = 0; i < Count; i++) floats += (long)sets.Length(i) * sets.Dimension;
            var set = new EmbeddingSet(sets.Dimension, checked((int)floats));
            var buffer = new float[Count == 0 ? 0 : Enumerable.Range(0, Count).Max(sets.Length) * sets.Dimension];
            for (int i = 0; i < Count; i++)
            {
                if ((i & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
                int n = sets.Length(i) * sets.Dimension;
                sets.CopyTo(i, buffer.AsSpan(0, n));
                set.Append(buffer.AsSpan(0, n));
            }
            return set;
        }
        var exact = Vectors switch
        {
            Exact.ExactIndex e => e,
            Quantized.Int8Index q => q.Vectors,
            _ => throw new InvalidDataException($"The {Name} of this gallery are one vector each inside a {Vectors.Kind} graph, which does not give them back; build the index with --structure exact or int8 to score every item."),
        };
        int d = Vectors.Dimension;
        var vectors = new EmbeddingSet(d, checked(Count * d));
        unsafe
        {
            for (int i = 0; i < Count; i++) vectors.Append(new ReadOnlySpan<float>(exact.Rows.Row(i), d));
        }
        return vectors;
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
