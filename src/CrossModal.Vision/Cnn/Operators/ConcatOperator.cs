namespace CrossModal.Vision.Cnn.Operators;

/// <summary>ONNX Concat along one axis (negative axes count from the end), as block copies.</summary>
internal sealed class ConcatOperator : CnnOperator
{
    private readonly int _axis;

    public ConcatOperator(NodeAttributes a, long opset) : base(a)
    {
        if (!a.Has("axis") && opset >= 4) throw a.Invalid("axis is required");
        _axis = (int)a.Int("axis", 1);
    }

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants)
    {
        int rank = inputRanks[0];
        for (int i = 0; i < inputRanks.Length; i++)
            if (inputRanks[i] >= 0 && (constants[i] is not null || inputRanks[i] != rank)) return null;
        int axis = _axis < 0 ? _axis + rank : _axis;
        return axis >= 1 && axis < rank ? new[] { rank } : null;
    }

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var parts = new List<CnnValue>();
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is not null) parts.Add(Input(inputs, i, $"input {i}"));
        if (parts.Count == 0) throw ShapeError("no inputs");
        int rank = parts[0].Rank;
        int axis = _axis < 0 ? _axis + rank : _axis;
        if (axis < 0 || axis >= rank) throw ShapeError($"axis {_axis} is out of range for rank {rank}");
        var shape = parts[0].Shape.ToArray();
        shape[axis] = 0;
        foreach (var p in parts)
        {
            if (p.Rank != rank) throw ShapeError($"inputs of rank {rank} and {p.Rank}");
            for (int d = 0; d < rank; d++)
                if (d != axis && p.Shape[d] != shape[d]) throw ShapeError($"input {p} does not match {CrossModal.Tensors.Tensor.FormatShape(parts[0].Shape)} outside axis {axis}");
            shape[axis] += p.Shape[axis];
        }
        int outer = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        int inner = CnnValue.ShapeSize(shape) / Math.Max(1, outer);
        var y = CnnValue.Rent(shape);
        var dst = y.Span;
        int offset = 0;
        foreach (var p in parts)
        {
            int block = p.Length / Math.Max(1, outer);
            var src = p.Span;
            for (int o = 0; o < outer; o++) src.Slice(o * block, block).CopyTo(dst.Slice(o * inner + offset, block));
            offset += block;
        }
        return new CnnValue?[] { y };
    }
}
