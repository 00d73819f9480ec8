namespace CrossModal.Tensors.Linalg;

/// <summary>
/// The leading singular triplets of a matrix A ~ U diag(S) V^T: <see cref="U"/> is Rows x Rank, <see cref="V"/>
/// Columns x Rank (both row major, orthonormal columns), <see cref="Values"/> descending. Immutable by convention
/// (the arrays are not copied; do not modify them).
/// </summary>
public sealed record TruncatedSvd(int Rows, int Columns, int Rank, double[] U, double[] Values, double[] V);
