using System.Numerics.Tensors;

namespace CrossModal.Tensors.Kernels;

/// <summary>Small element-wise helpers on spans used by the ops' forward and backward passes.</summary>
internal static class Elementwise
{
    /// <summary>dst += src.</summary>
    public static void AddInPlace(Span<float> dst, ReadOnlySpan<float> src) => TensorPrimitives.Add(dst, src, dst);

    /// <summary>dst += alpha * src.</summary>
    public static void AxpyInPlace(Span<float> dst, float alpha, ReadOnlySpan<float> src) => TensorPrimitives.MultiplyAdd(src, alpha, dst, dst);
}
