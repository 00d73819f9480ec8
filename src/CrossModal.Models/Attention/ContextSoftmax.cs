using System.Numerics.Tensors;

namespace CrossModal.Models.Attention;

/// <summary>
/// Stage 3: the attention weights α[c, q] = softmax over the context rows c of λ·a[c, q], for every column q at once
/// (max-subtracted, as nn.Softmax does). Rows are cols wide and stored back to back.
/// </summary>
public static class ContextSoftmax
{
    /// <summary>α = softmax_rows(λ a); <paramref name="colMax"/> and <paramref name="colSum"/> are scratch of <paramref name="cols"/>.</summary>
    public static void Forward(ReadOnlySpan<float> a, int rows, int cols, float lambda, Span<float> alpha, Span<float> colMax, Span<float> colSum)
    {
        colMax = colMax[..cols];
        colSum = colSum[..cols];
        for (int c = 0; c < rows; c++)
        {
            var al = alpha.Slice(c * cols, cols);
            TensorPrimitives.Multiply(a.Slice(c * cols, cols), lambda, al);
            if (c == 0) al.CopyTo(colMax); else TensorPrimitives.Max(colMax, al, colMax);
        }
        colSum.Clear();
        for (int c = 0; c < rows; c++)
        {
            var al = alpha.Slice(c * cols, cols);
            TensorPrimitives.Subtract(al, colMax, al);
            TensorPrimitives.Exp(al, al);
            TensorPrimitives.Add(colSum, al, colSum);
        }
        TensorPrimitives.Reciprocal(colSum, colSum);
        for (int c = 0; c < rows; c++) TensorPrimitives.Multiply(alpha.Slice(c * cols, cols), colSum, alpha.Slice(c * cols, cols));
    }

    /// <summary>
    /// In place: <paramref name="dAlpha"/> holds d loss / d α on entry and d loss / d a on return:
    /// da = λ α (dα − Σ_c α dα). <paramref name="colDot"/> is scratch of <paramref name="cols"/>.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> alpha, int rows, int cols, float lambda, Span<float> dAlpha, Span<float> colDot)
    {
        colDot = colDot[..cols];
        colDot.Clear();
        for (int c = 0; c < rows; c++) TensorPrimitives.FusedMultiplyAdd(alpha.Slice(c * cols, cols), dAlpha.Slice(c * cols, cols), colDot, colDot);
        for (int c = 0; c < rows; c++)
        {
            var da = dAlpha.Slice(c * cols, cols);
            TensorPrimitives.Subtract(da, colDot, da);
            TensorPrimitives.Multiply(da, alpha.Slice(c * cols, cols), da);
            TensorPrimitives.Multiply(da, lambda, da);
        }
    }
}
