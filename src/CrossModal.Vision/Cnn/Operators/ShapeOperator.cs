using CrossModal.Tensors;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// ONNX Flatten (to 2-D at <c>axis</c>) and Reshape (shape from the second input from opset 5, from the 'shape'
/// attribute before; 0 copies the input dimension unless allowzero=1, -1 is inferred). The data is copied: these
/// sit at the end of CNNs where the copy costs nothing measurable, and no buffer is ever shared between values.
/// </summary>
internal sealed class ShapeOperator : CnnOperator
{
    private readonly string _kind;
    private readonly int _axis;
    private readonly int[]? _shapeAttribute;
    private readonly bool _allowZero;

    public ShapeOperator(NodeAttributes a, long opset) : base(a)
    {
        _kind = a.Node.OpType;
        _axis = (int)a.Int("axis", 1);
        _allowZero = a.Int("allowzero", 0) != 0;
        if (_kind == "Reshape" && opset < 5) _shapeAttribute = a.Ints("shape") ?? throw a.Invalid("the shape attribute is required before opset 5");
    }

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants)
    {
        // Flatten keeps the batch axis when it flattens from axis 1 or later; Reshape may move images around.
        if (_kind != "Flatten" || constants[0] is not null) return null;
        int rank = inputRanks[0];
        int axis = _axis < 0 ? _axis + rank : _axis;
        return axis >= 1 ? new[] { 2 } : null;
    }

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = Input(inputs, 0, "data");
        int[] shape;
        if (_kind == "Flatten")
        {
            int axis = _axis < 0 ? _axis + x.Rank : _axis;
            if (axis < 0 || axis > x.Rank) throw ShapeError($"axis {_axis} is out of range for rank {x.Rank}");
            int outer = 1;
            for (int d = 0; d < axis; d++) outer *= x.Shape[d];
            shape = new[] { outer, x.Length / Math.Max(1, outer) };
            if (outer == 0) shape[1] = CnnValue.ShapeSize(x.Shape[axis..]);
        }
        else
        {
            long[] requested;
            if (_shapeAttribute is not null) requested = _shapeAttribute.Select(v => (long)v).ToArray();
            else
            {
                var s = inputs.Length > 1 ? inputs[1] : null;
                if (s is null || !s.IsInt64) throw ShapeError("the shape input must be an int64 tensor");
                requested = s.Ints!;
            }
            shape = Resolve(x.Shape, requested);
        }
        var y = CnnValue.Rent(shape);
        x.Span.CopyTo(y.Span);
        return new CnnValue?[] { y };
    }

    private int[] Resolve(int[] input, long[] requested)
    {
        var shape = new int[requested.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < requested.Length; i++)
        {
            long v = requested[i];
            if (v == -1)
            {
                if (infer >= 0) throw ShapeError("more than one -1 in the target shape");
                infer = i;
                continue;
            }
            if (v == 0 && !_allowZero)
            {
                if (i >= input.Length) throw ShapeError($"target shape [{string.Join(", ", requested)}] copies axis {i}, which {Tensor.FormatShape(input)} does not have");
                v = input[i];
            }
            if (v < 0) throw ShapeError($"invalid target dimension {v}");
            shape[i] = (int)v;
            known *= v;
        }
        long total = CnnValue.ShapeSize(input);
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0) throw ShapeError($"cannot reshape {Tensor.FormatShape(input)} to [{string.Join(", ", requested)}]");
            shape[infer] = (int)(total / known);
        }
        else if (known != total) throw ShapeError($"cannot reshape {Tensor.FormatShape(input)} ({total} elements) to [{string.Join(", ", requested)}]");
        return shape;
    }
}
