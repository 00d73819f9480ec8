namespace CrossModal.Search.Hnsw;

/// <summary>
/// HNSW parameters, named as in the HNSW paper and in FAISS/hnswlib (USearch calls them connectivity,
/// expansion_add and expansion_search). The defaults are the common starting point M = 16, efConstruction = 128,
/// efSearch = 64.
/// </summary>
public sealed record HnswOptions
{
    /// <summary>M: neighbours kept per node on the upper layers (2M on the bottom layer, as in FAISS and hnswlib).</summary>
    public int M { get; init; } = 16;

    /// <summary>efConstruction: candidates explored while inserting; higher builds slower and a better graph.</summary>
    public int EfConstruction { get; init; } = 128;

    /// <summary>efSearch: candidates explored per query (at least k is used); higher is slower and finds more.</summary>
    public int EfSearch { get; init; } = 64;

    internal void Check()
    {
        if (M < 2 || M > 1024) throw new ArgumentOutOfRangeException(nameof(M), M, "HNSW M must be in 2 .. 1024.");
        if (EfConstruction < 1) throw new ArgumentOutOfRangeException(nameof(EfConstruction), EfConstruction, "efConstruction must be at least 1.");
        if (EfSearch < 1) throw new ArgumentOutOfRangeException(nameof(EfSearch), EfSearch, "efSearch must be at least 1.");
    }
}
