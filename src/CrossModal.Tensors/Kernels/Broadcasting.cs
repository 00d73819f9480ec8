using System.Numerics.Tensors;

namespace CrossModal.Tensors.Kernels;

/// <summary>
/// Element-wise binary operations with NumPy/PyTorch/ONNX multidirectional broadcasting on spans (no autograd);
/// the differentiable ops in <see cref="Ops"/> and the ONNX runtime's Add/Sub/Mul/Div share it.
/// </summary>
public static class Broadcasting
{
    /// <summary>Element strides of <paramref name="shape"/> inside <paramref name="outShape"/> (0 along broadcast axes).</summary>
    public static int[] Strides(ReadOnlySpan<int> shape, ReadOnlySpan<int> outShape)
    {
        int r = outShape.Length, off = r - shape.Length;
        var strides = new int[r];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i + off] = shape[i] == 1 && outShape[i + off] != 1 ? 0 : s;
            s *= shape[i];
        }
        return strides;
    }


    /// <summary>
    /// y = a op b with NumPy broadcasting, y of <paramref name="outShape"/> (see <see cref="Ops.BroadcastShape"/>).
    /// The output is walked as rows of its last axis; within a row each operand is contiguous or a broadcast
    /// scalar, so the inner loop is one TensorPrimitives call.
    /// </summary>
    public static void Apply(BinaryOperation kind, ReadOnlySpan<float> a, ReadOnlySpan<int> aShape, ReadOnlySpan<float> b, ReadOnlySpan<int> bShape,
        Span<float> y, ReadOnlySpan<int> outShape)
    {
        if (a.Length == y.Length && b.Length == y.Length)
        {
            Apply(a, b, y, kind);
            return;
        }
        if (y.Length == 0) return;
        if (b.Length == 1 && a.Length == y.Length) { ApplyScalarRight(a, b[0], y, kind); return; }
        if (a.Length == 1 && b.Length == y.Length) { ApplyScalarLeft(a[0], b, y, kind); return; }
        int r = outShape.Length;
        var sa = Strides(aShape, outShape);
        var sb = Strides(bShape, outShape);
        int innerN = outShape[r - 1];
        var idx = new int[r];
        int pa = 0, pb = 0;
        for (int o = 0; o < y.Length; o += innerN)
        {
            var dst = y.Slice(o, innerN);
            int ia = sa[r - 1], ib = sb[r - 1];
            if (ia == 1 && ib == 1) Apply(a.Slice(pa, innerN), b.Slice(pb, innerN), dst, kind);
            else if (ia == 1 && ib == 0) ApplyScalarRight(a.Slice(pa, innerN), b[pb], dst, kind);
            else if (ia == 0 && ib == 1) ApplyScalarLeft(a[pa], b.Slice(pb, innerN), dst, kind);
            else
            {
                for (int j = 0; j < innerN; j++) dst[j] = Scalar(a[pa + j * ia], b[pb + j * ib], kind);
            }
            for (int ax = r - 2; ax >= 0; ax--)
            {
                idx[ax]++;
                pa += sa[ax];
                pb += sb[ax];
                if (idx[ax] < outShape[ax]) break;
                pa -= idx[ax] * sa[ax];
                pb -= idx[ax] * sb[ax];
                idx[ax] = 0;
            }
        }
    }

    private static float Scalar(float a, float b, BinaryOperation kind) => kind switch
    {
        BinaryOperation.Add => a + b,
        BinaryOperation.Subtract => a - b,
        BinaryOperation.Multiply => a * b,
        _ => a / b,
    };

    private static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, BinaryOperation kind)
    {
        switch (kind)
        {
            case BinaryOperation.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOperation.Subtract: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOperation.Multiply: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static void ApplyScalarRight(ReadOnlySpan<float> a, float b, Span<float> y, BinaryOperation kind)
    {
        switch (kind)
        {
            case BinaryOperation.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOperation.Subtract: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOperation.Multiply: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static void ApplyScalarLeft(float a, ReadOnlySpan<float> b, Span<float> y, BinaryOperation kind)
    {
        switch (kind)
        {
            case BinaryOperation.Add: TensorPrimitives.Add(b, a, y); break;
            case BinaryOperation.Subtract: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOperation.Multiply: TensorPrimitives.Multiply(b, a, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }
}
