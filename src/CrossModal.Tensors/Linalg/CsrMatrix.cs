using System.Numerics.Tensors;

namespace CrossModal.Tensors.Linalg;

/// <summary>
/// A sparse matrix in compressed sparse row form (double values): the PPMI co-occurrence matrix of word vectors and
/// the TF-IDF document-term matrix are a few percent dense, so products with them cost a few percent of a dense one.
/// </summary>
public sealed class CsrMatrix : ILinearOperator
{
    private readonly int[] _rowStart;
    private readonly int[] _columns;
    private readonly double[] _values;

    /// <summary>Wraps CSR arrays (not copied): row i's entries are at [rowStart[i], rowStart[i + 1]).</summary>
    public CsrMatrix(int rows, int columns, int[] rowStart, int[] columnIndices, double[] values)
    {
        if (rows < 0 || columns < 0 || rowStart.Length != rows + 1 || rowStart[0] != 0 || rowStart[rows] != columnIndices.Length || values.Length != columnIndices.Length)
            throw new ArgumentException("Inconsistent CSR arrays: rowStart needs rows + 1 entries from 0 to the number of values.");
        for (int i = 0; i < rows; i++)
            if (rowStart[i + 1] < rowStart[i]) throw new ArgumentException($"CSR row {i} ends before it starts.");
        foreach (int c in columnIndices)
            if ((uint)c >= (uint)columns) throw new ArgumentException($"CSR column index {c} is outside 0..{columns - 1}.");
        Rows = rows;
        Columns = columns;
        _rowStart = rowStart;
        _columns = columnIndices;
        _values = values;
    }

    /// <inheritdoc/>
    public int Rows { get; }

    /// <inheritdoc/>
    public int Columns { get; }

    /// <summary>Number of stored entries.</summary>
    public int NonZeros => _values.Length;

    /// <summary>The entries of a dense row-major float matrix that are not zero.</summary>
    public static CsrMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns)
    {
        if (dense.Length != (long)rows * columns) throw new ArgumentException($"Expected {rows} x {columns} values, got {dense.Length}.");
        var start = new int[rows + 1];
        var cols = new List<int>();
        var vals = new List<double>();
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                float v = dense[i * columns + j];
                if (v == 0) continue;
                cols.Add(j);
                vals.Add(v);
            }
            start[i + 1] = cols.Count;
        }
        return new CsrMatrix(rows, columns, start, cols.ToArray(), vals.ToArray());
    }

    /// <inheritdoc/>
    public void Multiply(ReadOnlySpan<double> x, int k, Span<double> y)
    {
        Check(x.Length, Columns, y.Length, Rows, k);
        y.Clear();
        for (int i = 0; i < Rows; i++)
        {
            var yi = y.Slice(i * k, k);
            for (int e = _rowStart[i]; e < _rowStart[i + 1]; e++)
                TensorPrimitives.MultiplyAdd(x.Slice(_columns[e] * k, k), _values[e], yi, yi);
        }
    }

    /// <inheritdoc/>
    public void MultiplyTransposed(ReadOnlySpan<double> x, int k, Span<double> y)
    {
        Check(x.Length, Rows, y.Length, Columns, k);
        y.Clear();
        for (int i = 0; i < Rows; i++)
        {
            var xi = x.Slice(i * k, k);
            for (int e = _rowStart[i]; e < _rowStart[i + 1]; e++)
            {
                var yj = y.Slice(_columns[e] * k, k);
                TensorPrimitives.MultiplyAdd(xi, _values[e], yj, yj);
            }
        }
    }

    private static void Check(int xLength, int xRows, int yLength, int yRows, int k)
    {
        if (k <= 0 || xLength != (long)xRows * k || yLength != (long)yRows * k)
            throw new ArgumentException($"Expected blocks of {xRows} x {k} and {yRows} x {k}, got {xLength} and {yLength} values.");
    }
}
