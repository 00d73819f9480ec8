using CrossModal.Tensors;
using CrossModal.Tensors.Kernels;
using Tensor = CrossModal.Tensors.Tensor;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// Element-wise Add, Sub, Mul, Div with ONNX multidirectional (numpy) broadcasting (opset 7 on), computed by the
/// engine's <see cref="Broadcasting"/> kernel. Opset 1-6 'broadcast'/'axis' attributes are refused.
/// </summary>
internal sealed class BinaryOperator(NodeAttributes a) : CnnOperator(a)
{
    private readonly BinaryOperation _op = a.Node.OpType switch
    {
        "Add" => BinaryOperation.Add,
        "Sub" => BinaryOperation.Subtract,
        "Mul" => BinaryOperation.Multiply,
        _ => BinaryOperation.Divide,
    };

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants)
    {
        int ra = inputRanks[0], rb = inputRanks[1];
        if (constants[0] is null && constants[1] is null) return ra == rb ? new[] { ra } : null;
        // A constant broadcasts over the batch when it has fewer axes or a leading 1.
        var (c, rankActivation) = constants[0] is { } ca ? (ca, rb) : (constants[1]!, ra);
        if (constants[0] is not null && constants[1] is not null) return null;
        return c.Rank < rankActivation || (c.Rank == rankActivation && c.Shape[0] == 1) ? new[] { rankActivation } : null;
    }

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = Input(inputs, 0, "A");
        var z = Input(inputs, 1, "B");
        int[] shape;
        try { shape = Ops.BroadcastShape(x.Shape, z.Shape); }
        catch (ArgumentException) { throw ShapeError($"shapes {Tensor.FormatShape(x.Shape)} and {Tensor.FormatShape(z.Shape)} do not broadcast"); }
        var y = CnnValue.Rent(shape);
        Broadcasting.Apply(_op, x.Span, x.Shape, z.Span, z.Shape, y.Span, shape);
        return new CnnValue?[] { y };
    }
}
