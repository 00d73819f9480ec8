namespace CrossModal.Tensors;

/// <summary>
/// Differentiable tensor operations. Each op computes its forward result and, when an input requires a gradient
/// and recording is on, records its backward on the <see cref="Autograd.Tape"/>. Ops are grouped in files by
/// family (Ops.MatMul.cs, Ops.Arithmetic.cs, ...).
/// </summary>
public static partial class Ops
{
    /// <summary>Splits a shape at <paramref name="axis"/> into (product before, size of axis, product after).</summary>
    internal static (int Outer, int N, int Inner) SplitAxis(ReadOnlySpan<int> shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, shape[axis], inner);
    }

    internal static int[] ShapeWithout(ReadOnlySpan<int> shape, int axis, bool keepDim)
    {
        var list = new List<int>(shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            if (i == axis) { if (keepDim) list.Add(1); }
            else list.Add(shape[i]);
        }
        return list.ToArray();
    }

    internal static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }
}
