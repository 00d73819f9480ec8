using CrossModal.Tensors.Kernels;

namespace CrossModal.Models.Attention;

/// <summary>
/// Stage 1: the raw similarities S = C Qᵀ of context rows C [rows, d] with query rows Q [cols, d], one GEMM on both
/// cores (for a block: all regions of the block's images against all words of its captions).
/// </summary>
public static class RawSimilarity
{
    /// <summary>S [rows, cols] (row stride cols) = C Qᵀ.</summary>
    public static void Forward(ReadOnlySpan<float> context, int rows, ReadOnlySpan<float> query, int cols, int d, Span<float> s) =>
        Gemm.Multiply(false, true, rows, cols, d, 1f, context, d, query, d, 0f, s, cols);

    /// <summary>
    /// Back-propagates dS: dC (+)= dS Q and dQ (+)= dSᵀ C; the flags say whether each destination is added to or
    /// overwritten.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> context, int rows, ReadOnlySpan<float> query, int cols, int d, ReadOnlySpan<float> dS,
        Span<float> dContext, bool accumulateContext, Span<float> dQuery, bool accumulateQuery)
    {
        Gemm.Multiply(false, false, rows, d, cols, 1f, dS, cols, query, d, accumulateContext ? 1f : 0f, dContext, d);
        Gemm.Multiply(true, false, cols, d, rows, 1f, dS, cols, context, d, accumulateQuery ? 1f : 0f, dQuery, d);
    }
}
