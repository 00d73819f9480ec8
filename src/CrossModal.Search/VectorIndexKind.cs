namespace CrossModal.Search;

/// <summary>The search structures; the numeric values are written in serialised sections.</summary>
public enum VectorIndexKind
{
    /// <summary>Exact search over float32 vectors (<see cref="Exact.ExactIndex"/>).</summary>
    Exact = 1,

    /// <summary>int8 scalar quantisation with float32 re-scoring (<see cref="Quantized.Int8Index"/>).</summary>
    Int8 = 2,

    /// <summary>HNSW graph through USearch (<see cref="Hnsw.HnswIndex"/>).</summary>
    Hnsw = 3,
}
