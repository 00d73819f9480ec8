using CrossModal.Tensors;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// ONNX Pad in constant mode (what torch exports before an AveragePool that counts padding, or for F.pad):
/// pads from the attribute before opset 11 and from the int64 input after; the fill value from 'value' or the
/// optional constant_value input. Reflect/edge modes and negative pads (cropping) are refused.
/// </summary>
internal sealed class PadOperator : CnnOperator
{
    private readonly int[]? _pads;
    private readonly float _value;

    public PadOperator(NodeAttributes a, long opset) : base(a)
    {
        string mode = a.String("mode", "constant");
        if (mode != "constant") throw a.Unsupported($"mode '{mode}' (only constant padding)");
        if (opset < 11)
        {
            _pads = a.Ints("pads") ?? a.Ints("paddings") ?? throw a.Invalid("pads is required");
            _value = a.Float("value", 0f);
        }
        if (opset >= 18 && a.Node.Inputs.Count > 3 && a.Node.Inputs[3].Length > 0) throw a.Unsupported("the axes input");
    }

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants)
    {
        if (!RestConstant(inputRanks, constants)) return null;
        int rank = inputRanks[0];
        var pads = _pads ?? constants[1]?.Ints?.Select(v => (int)v).ToArray();
        // Padding the batch axis would add images.
        return pads is not null && pads.Length == 2 * rank && pads[0] == 0 && pads[rank] == 0 ? new[] { rank } : null;
    }

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = Input(inputs, 0, "data");
        int[] pads;
        float value = _value;
        if (_pads is not null) pads = _pads;
        else
        {
            var p = inputs.Length > 1 ? inputs[1] : null;
            if (p is null || !p.IsInt64) throw ShapeError("the pads input must be an int64 tensor");
            pads = p.Ints!.Select(v => checked((int)v)).ToArray();
            if (inputs.Length > 2 && inputs[2] is { } cv) value = cv.IsInt64 ? cv.Ints![0] : cv.Span[0];
        }
        int rank = x.Rank;
        if (pads.Length != 2 * rank) throw ShapeError($"{pads.Length} pads for rank {rank}");
        if (pads.Any(v => v < 0)) throw Attributes.Unsupported("negative pads (cropping)");
        var shape = new int[rank];
        for (int d = 0; d < rank; d++) shape[d] = x.Shape[d] + pads[d] + pads[d + rank];
        var y = CnnValue.Rent(shape);
        var dst = y.Span;
        dst.Fill(value);
        var src = x.Span;
        if (x.Length == 0) return new CnnValue?[] { y };
        // Copy each innermost row of the input to its padded position.
        int inner = x.Shape[rank - 1];
        int rows = x.Length / inner;
        var index = new int[rank];
        for (int r = 0; r < rows; r++)
        {
            int rem = r;
            for (int d = rank - 2; d >= 0; d--)
            {
                index[d] = rem % x.Shape[d];
                rem /= x.Shape[d];
            }
            long offset = 0;
            for (int d = 0; d < rank - 1; d++) offset = offset * shape[d] + index[d] + pads[d];
            offset = offset * shape[rank - 1] + pads[rank - 1];
            src.Slice(r * inner, inner).CopyTo(dst.Slice((int)offset, inner));
        }
        return new CnnValue?[] { y };
    }
}
