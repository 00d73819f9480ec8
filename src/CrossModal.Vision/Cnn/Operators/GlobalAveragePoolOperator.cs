using System.Numerics.Tensors;
using CrossModal.Tensors.Threading;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>ONNX GlobalAveragePool: the mean of each (image, channel) plane, output [N, C, 1, ...].</summary>
internal sealed class GlobalAveragePoolOperator(NodeAttributes a) : CnnOperator(a)
{
    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants) =>
        RestConstant(inputRanks, constants) ? new[] { inputRanks[0] } : null;

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = Input(inputs, 0, "X");
        if (x.Rank < 3) throw ShapeError($"input {x} has no spatial axes");
        int planes = x.Shape[0] * x.Shape[1];
        int size = x.Length / Math.Max(1, planes);
        var shape = x.Shape.ToArray();
        for (int i = 2; i < shape.Length; i++) shape[i] = 1;
        var y = CnnValue.Rent(shape);
        float[] xb = x.Buffer, yb = y.Buffer;
        int xo = x.Offset;
        Parallelism.For(planes, Math.Max(1, 8192 / Math.Max(1, size)), (s, e) =>
        {
            for (int p = s; p < e; p++) yb[p] = TensorPrimitives.Sum(xb.AsSpan(xo + p * size, size)) / size;
        });
        return new CnnValue?[] { y };
    }
}
