namespace CrossModal.Tensors.Linalg;

/// <summary>
/// A - 1 mu^T: the operator with its column means (or any row vector mu) subtracted from every row, applied without
/// forming the dense centred matrix, so a sparse data matrix stays sparse for PCA.
/// </summary>
public sealed class CenteredOperator : ILinearOperator
{
    private readonly ILinearOperator _inner;
    private readonly double[] _mean;

    /// <summary>Centres <paramref name="inner"/> by <paramref name="mean"/> (one value per column).</summary>
    public CenteredOperator(ILinearOperator inner, double[] mean)
    {
        if (mean.Length != inner.Columns) throw new ArgumentException($"{mean.Length} means for {inner.Columns} columns.");
        _inner = inner;
        _mean = mean;
    }

    /// <inheritdoc/>
    public int Rows => _inner.Rows;

    /// <inheritdoc/>
    public int Columns => _inner.Columns;

    /// <inheritdoc/>
    public void Multiply(ReadOnlySpan<double> x, int k, Span<double> y)
    {
        _inner.Multiply(x, k, y);
        // (A - 1 mu^T) X = A X - 1 (mu^T X): subtract the same row mu^T X from every row.
        var m = new double[k];
        for (int j = 0; j < Columns; j++)
            for (int c = 0; c < k; c++) m[c] += _mean[j] * x[j * k + c];
        for (int i = 0; i < Rows; i++)
            for (int c = 0; c < k; c++) y[i * k + c] -= m[c];
    }

    /// <inheritdoc/>
    public void MultiplyTransposed(ReadOnlySpan<double> x, int k, Span<double> y)
    {
        _inner.MultiplyTransposed(x, k, y);
        // (A - 1 mu^T)^T X = A^T X - mu (1^T X).
        var s = new double[k];
        for (int i = 0; i < Rows; i++)
            for (int c = 0; c < k; c++) s[c] += x[i * k + c];
        for (int j = 0; j < Columns; j++)
            for (int c = 0; c < k; c++) y[j * k + c] -= _mean[j] * s[c];
    }
}
