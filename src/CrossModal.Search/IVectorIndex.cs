namespace CrossModal.Search;

/// <summary>
/// Top-k maximum-inner-product search over unit vectors (inner product = cosine similarity). Items get the ids
/// 0, 1, 2, ... in the order they are added; a later layer maps ids to images or captions.
/// </summary>
/// <remarks>
/// Results of one query are ordered best first: higher score first, and among equal scores the lower id first
/// (the same rule in every implementation, so exact results are reproducible). When fewer than k items are found
/// (k larger than <see cref="Count"/>, or an approximate structure that stops early) the remaining slots hold id
/// -1 and score negative infinity. An index may be read by several threads at once; adding while searching is not
/// supported.
/// </remarks>
public interface IVectorIndex : IDisposable
{
    /// <summary>What the structure is: "exact", "int8" or "hnsw" (also the kind recorded in its serialised section).</summary>
    VectorIndexKind Kind { get; }

    /// <summary>Floats per vector.</summary>
    int Dimension { get; }

    /// <summary>Number of items.</summary>
    int Count { get; }

    /// <summary>
    /// Bytes of RAM the index holds (its own allocations). Pages of a memory-mapped file are not counted: the OS
    /// keeps them in its page cache and may drop them.
    /// </summary>
    long MemoryBytes { get; }

    /// <summary>
    /// Appends <paramref name="vectors"/>, row-major [n x <see cref="Dimension"/>], each finite with unit L2 norm
    /// (within 1e-3); they get the ids <see cref="Count"/> .. <see cref="Count"/> + n - 1.
    /// </summary>
    void Add(ReadOnlySpan<float> vectors, CancellationToken cancellationToken = default);

    /// <summary>
    /// The top <paramref name="k"/> items of each query. <paramref name="queries"/> is row-major
    /// [q x <see cref="Dimension"/>] (finite; scores are inner products, so pass unit vectors for cosine);
    /// <paramref name="ids"/> and <paramref name="scores"/> receive [q x k], best first.
    /// </summary>
    void Search(ReadOnlySpan<float> queries, int k, Span<int> ids, Span<float> scores, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the index as one self-delimiting section (see <see cref="VectorIndexSection"/>), so that a larger
    /// file can embed it and <see cref="VectorIndexSection.Read(Stream, string)"/> can read it back.
    /// </summary>
    void Save(Stream stream);
}
