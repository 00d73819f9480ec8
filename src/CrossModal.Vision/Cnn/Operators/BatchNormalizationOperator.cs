using System.Numerics.Tensors;
using CrossModal.Tensors.Threading;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// ONNX BatchNormalization at inference: y = (x - mean) / sqrt(var + epsilon) * scale + B per channel (axis 1),
/// folded into one multiply-add per element. Training mode and spatial=0 are refused.
/// </summary>
internal sealed class BatchNormalizationOperator : CnnOperator
{
    private readonly float _epsilon;

    public BatchNormalizationOperator(NodeAttributes a) : base(a)
    {
        _epsilon = a.Float("epsilon", 1e-5f);
        if (a.Int("training_mode", 0) != 0) throw a.Unsupported("training_mode=1");
        if (a.Int("spatial", 1) == 0) throw a.Unsupported("spatial=0 (per-activation statistics)");
        if (a.Int("is_test", 1) == 0) throw a.Unsupported("is_test=0 (training mode)");
        if (a.Node.Outputs.Skip(1).Any(o => o.Length > 0)) throw a.Unsupported("the training-mode outputs (running mean/var)");
    }

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants) =>
        RestConstant(inputRanks, constants) ? new[] { inputRanks[0] } : null;

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = Input(inputs, 0, "X");
        var scale = Input(inputs, 1, "scale").Span;
        var bias = Input(inputs, 2, "B").Span;
        var mean = Input(inputs, 3, "mean").Span;
        var variance = Input(inputs, 4, "var").Span;
        if (x.Rank < 2) throw ShapeError($"input {x} has no channel axis");
        int n = x.Shape[0], c = x.Shape[1];
        if (scale.Length != c || bias.Length != c || mean.Length != c || variance.Length != c)
            throw ShapeError($"parameters of length {scale.Length}/{bias.Length}/{mean.Length}/{variance.Length} for {c} channels");
        var mul = new float[c];
        var add = new float[c];
        for (int i = 0; i < c; i++)
        {
            mul[i] = scale[i] / MathF.Sqrt(variance[i] + _epsilon);
            add[i] = bias[i] - mean[i] * mul[i];
        }
        int size = x.Length / Math.Max(1, n * c);
        var y = CnnValue.Rent(x.Shape);
        float[] xb = x.Buffer, yb = y.Buffer;
        int xo = x.Offset;
        Parallelism.For(n * c, Math.Max(1, 8192 / Math.Max(1, size)), (s, e) =>
        {
            for (int p = s; p < e; p++)
            {
                int ch = p % c;
                var dst = yb.AsSpan(p * size, size);
                TensorPrimitives.Multiply(xb.AsSpan(xo + p * size, size), mul[ch], dst);
                TensorPrimitives.Add(dst, add[ch], dst);
            }
        });
        return new CnnValue?[] { y };
    }
}
