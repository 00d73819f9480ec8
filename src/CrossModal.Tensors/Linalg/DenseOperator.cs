using System.Numerics.Tensors;

namespace CrossModal.Tensors.Linalg;

/// <summary>A dense row-major double matrix as an <see cref="ILinearOperator"/> (the array is not copied).</summary>
public sealed class DenseOperator(double[] values, int rows, int columns) : ILinearOperator
{
    private readonly double[] _values = values.Length == (long)rows * columns ? values
        : throw new ArgumentException($"Expected {rows} x {columns} values, got {values.Length}.");

    /// <inheritdoc/>
    public int Rows { get; } = rows;

    /// <inheritdoc/>
    public int Columns { get; } = columns;

    /// <inheritdoc/>
    public void Multiply(ReadOnlySpan<double> x, int k, Span<double> y) =>
        MatrixMath.Multiply(_values, Rows, Columns, x, k, y);

    /// <inheritdoc/>
    public void MultiplyTransposed(ReadOnlySpan<double> x, int k, Span<double> y)
    {
        y[..(Columns * k)].Clear();
        for (int i = 0; i < Rows; i++)
        {
            var xi = x.Slice(i * k, k);
            for (int j = 0; j < Columns; j++)
            {
                var yj = y.Slice(j * k, k);
                TensorPrimitives.MultiplyAdd(xi, _values[i * Columns + j], yj, yj);
            }
        }
    }
}
