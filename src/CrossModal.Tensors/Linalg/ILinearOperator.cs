namespace CrossModal.Tensors.Linalg;

/// <summary>
/// A Rows x Columns matrix known only through its products with blocks of vectors, in double precision: what
/// <see cref="RandomizedSvd"/> needs, so a sparse, centred or implicit matrix never has to be formed densely.
/// Blocks are row major: a block of k vectors of length L is an L x k matrix.
/// </summary>
public interface ILinearOperator
{
    /// <summary>Number of rows.</summary>
    int Rows { get; }

    /// <summary>Number of columns.</summary>
    int Columns { get; }

    /// <summary>Y = A X: <paramref name="x"/> is Columns x k, <paramref name="y"/> (overwritten) Rows x k.</summary>
    void Multiply(ReadOnlySpan<double> x, int k, Span<double> y);

    /// <summary>Y = A^T X: <paramref name="x"/> is Rows x k, <paramref name="y"/> (overwritten) Columns x k.</summary>
    void MultiplyTransposed(ReadOnlySpan<double> x, int k, Span<double> y);
}
