using CrossModal.Tensors.Kernels;

namespace CrossModal.Models.Attention;

/// <summary>
/// Stage 4: the attended vectors att = αᵀ C [cols, d], att_q = Σ_c α[c, q] C_c, for α [rows, cols] and the owner's
/// context rows C [rows, d] (func_attention's weightedContext), as one GEMM.
/// </summary>
public static class AttendedVectors
{
    /// <summary>att [cols, d] = αᵀ C.</summary>
    public static void Forward(ReadOnlySpan<float> alpha, int rows, int cols, ReadOnlySpan<float> context, int d, Span<float> attended) =>
        Gemm.Multiply(true, false, cols, d, rows, 1f, alpha, cols, context, d, 0f, attended, d);

    /// <summary>
    /// Back-propagates d att [cols, d]: dα [rows, cols] = C d attᵀ (overwritten) and dC [rows, d] += α d att.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> alpha, int rows, int cols, ReadOnlySpan<float> context, int d, ReadOnlySpan<float> dAttended,
        Span<float> dAlpha, Span<float> dContext)
    {
        Gemm.Multiply(false, true, rows, cols, d, 1f, context, d, dAttended, d, 0f, dAlpha, cols);
        Gemm.Multiply(false, false, rows, d, cols, 1f, alpha, cols, dAttended, d, 1f, dContext, d);
    }
}
