using System.Numerics.Tensors;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// ONNX Softmax. Before opset 13 the input is coerced to 2-D at <c>axis</c> (default 1) and the softmax runs over
/// everything from that axis on; from opset 13 it runs along the one axis (default -1).
/// </summary>
internal sealed class SoftmaxOperator : CnnOperator
{
    private readonly int _axis;
    private readonly bool _flatten;

    public SoftmaxOperator(NodeAttributes a, long opset) : base(a)
    {
        _flatten = opset < 13;
        _axis = (int)a.Int("axis", _flatten ? 1 : -1);
    }

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants)
    {
        int rank = inputRanks[0];
        int axis = _axis < 0 ? _axis + rank : _axis;
        return constants[0] is null && axis >= 1 && axis < rank ? new[] { rank } : null;
    }

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = Input(inputs, 0, "input");
        int rank = x.Rank;
        int axis = _axis < 0 ? _axis + rank : _axis;
        if (axis < 0 || axis >= Math.Max(1, rank)) throw ShapeError($"axis {_axis} is out of range for rank {rank}");
        int outer = 1;
        for (int d = 0; d < axis; d++) outer *= x.Shape[d];
        int len, inner;
        if (_flatten) { len = x.Length / Math.Max(1, outer); inner = 1; }
        else
        {
            len = x.Shape[axis];
            inner = x.Length / Math.Max(1, outer * len);
        }
        var y = CnnValue.Rent(x.Shape);
        var src = x.Span;
        var dst = y.Span;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) StableSoftmax(src.Slice(o * len, len), dst.Slice(o * len, len));
        }
        else
        {
            var tmp = new float[len];
            var res = new float[len];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    for (int k = 0; k < len; k++) tmp[k] = src[(o * len + k) * inner + i];
                    StableSoftmax(tmp, res);
                    for (int k = 0; k < len; k++) dst[(o * len + k) * inner + i] = res[k];
                }
        }
        return new CnnValue?[] { y };
    }

    /// <summary>exp(x - max) / sum: subtracting the maximum keeps large logits from overflowing.</summary>
    private static void StableSoftmax(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length == 0) return;
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        float sum = TensorPrimitives.Sum(y);
        TensorPrimitives.Divide(y, sum, y);
    }
}
