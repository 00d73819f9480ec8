using System.Numerics.Tensors;
using CrossModal.Tensors.Threading;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// Element-wise Relu and Clip, and the identity operators (Dropout at inference, Identity). Clip takes its bounds
/// from attributes before opset 11 and from optional scalar inputs from opset 11 on.
/// </summary>
internal sealed class UnaryOperator : CnnOperator
{
    private readonly string _kind;
    private readonly float _min = float.NegativeInfinity, _max = float.PositiveInfinity;
    private readonly bool _boundsFromInputs;

    public UnaryOperator(NodeAttributes a, long opset) : base(a)
    {
        _kind = a.Node.OpType;
        if (_kind == "Clip")
        {
            if (opset < 11)
            {
                _min = a.Float("min", float.MinValue);
                _max = a.Float("max", float.MaxValue);
            }
            else _boundsFromInputs = true;
        }
        if (_kind == "Dropout")
        {
            if (a.Int("is_test", 1) == 0) throw a.Unsupported("training-mode Dropout (is_test=0)");
            // The mask output, when present, is all true at inference; we do not produce it.
        }
    }

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants) =>
        RestConstant(inputRanks, constants) ? new[] { inputRanks[0] } : null;

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = Input(inputs, 0, "X");
        if (_kind == "Dropout" && inputs.Length > 2 && inputs[2] is { } training && training.Length == 1
            && (training.IsInt64 ? training.Ints![0] != 0 : training.Span[0] != 0))
            throw Attributes.Unsupported("training-mode Dropout (training_mode input is true)");
        float lo = _min, hi = _max;
        if (_boundsFromInputs)
        {
            lo = Scalar(inputs, 1, float.NegativeInfinity);
            hi = Scalar(inputs, 2, float.PositiveInfinity);
        }
        var y = CnnValue.Rent(x.Shape);
        float[] xb = x.Buffer, yb = y.Buffer;
        int xo = x.Offset, length = x.Length;
        string kind = _kind;
        Parallelism.For(length, 1 << 16, (s, e) =>
        {
            var src = xb.AsSpan(xo + s, e - s);
            var dst = yb.AsSpan(s, e - s);
            switch (kind)
            {
                case "Relu": TensorPrimitives.Max(src, 0f, dst); break;
                case "Clip":
                    TensorPrimitives.Max(src, lo, dst);
                    TensorPrimitives.Min(dst, hi, dst);
                    break;
                default: src.CopyTo(dst); break;
            }
        });
        var outputs = new CnnValue?[Node.Outputs.Count];
        outputs[0] = y;
        return outputs;
    }

    private float Scalar(CnnValue?[] inputs, int index, float fallback)
    {
        if (index >= inputs.Length || inputs[index] is not { } v) return fallback;
        if (v.Length != 1) throw ShapeError($"Clip bound input {index} has {v.Length} elements, expected a scalar");
        return v.IsInt64 ? v.Ints![0] : v.Span[0];
    }
}
