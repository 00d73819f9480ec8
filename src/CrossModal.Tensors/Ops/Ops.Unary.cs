using System.Numerics.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Tensors;

public static partial class Ops
{
    /// <summary>max(x, 0). The gradient at 0 is 0, as in PyTorch.</summary>
    public static Tensor Relu(Tensor x) => LeakyRelu(x, 0f);

    /// <summary>x for x &gt; 0, slope * x otherwise (PyTorch's leaky_relu; gradient at 0 is the slope).</summary>
    public static Tensor LeakyRelu(Tensor x, float negativeSlope = 0.01f)
    {
        var y = Tensor.Empty(x.Shape);
        var xd = x.Data;
        var yd = y.Data;
        if (negativeSlope == 0f) TensorPrimitives.Max(xd, 0f, yd);
        else for (int i = 0; i < yd.Length; i++) yd[i] = xd[i] > 0f ? xd[i] : xd[i] * negativeSlope;
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                var gd = g.Data;
                var xs = x.Data;
                for (int i = 0; i < gd.Length; i++)
                {
                    float v = xs[i] > 0f ? gd[i] : gd[i] * negativeSlope;
                    if (acc) gx[i] += v; else gx[i] = v;
                }
            });
        }
        return y;
    }

    /// <summary>tanh(x); backward uses 1 - y^2.</summary>
    public static Tensor Tanh(Tensor x) => UnaryFromOutput(x, static (s, d) => TensorPrimitives.Tanh(s, d), static (y, g) => g * (1f - y * y));

    /// <summary>1 / (1 + e^-x); backward uses y (1 - y).</summary>
    public static Tensor Sigmoid(Tensor x) => UnaryFromOutput(x, static (s, d) => TensorPrimitives.Sigmoid(s, d), static (y, g) => g * y * (1f - y));

    /// <summary>e^x.</summary>
    public static Tensor Exp(Tensor x) => UnaryFromOutput(x, static (s, d) => TensorPrimitives.Exp(s, d), static (y, g) => g * y);

    /// <summary>sqrt(x); backward 0.5 / y.</summary>
    public static Tensor Sqrt(Tensor x) => UnaryFromOutput(x, static (s, d) => TensorPrimitives.Sqrt(s, d), static (y, g) => g * 0.5f / y);

    /// <summary>Natural logarithm; backward g / x.</summary>
    public static Tensor Log(Tensor x) => UnaryFromInput(x, static (s, d) => TensorPrimitives.Log(s, d), static (v, g) => g / v);

    /// <summary>|x|; the gradient at 0 is 0 (sign(0) = 0, as in PyTorch).</summary>
    public static Tensor Abs(Tensor x) => UnaryFromInput(x, static (s, d) => TensorPrimitives.Abs(s, d), static (v, g) => v > 0f ? g : v < 0f ? -g : 0f);

    /// <summary>
    /// Clamps into [min, max] (either bound may be null). The gradient passes where min &lt;= x &lt;= max, as in PyTorch.
    /// </summary>
    public static Tensor Clamp(Tensor x, float? min, float? max)
    {
        float lo = min ?? float.NegativeInfinity, hi = max ?? float.PositiveInfinity;
        var y = Tensor.Empty(x.Shape);
        var xd = x.Data;
        var yd = y.Data;
        for (int i = 0; i < yd.Length; i++) yd[i] = xd[i] < lo ? lo : xd[i] > hi ? hi : xd[i];
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                var gd = g.Data;
                var xs = x.Data;
                for (int i = 0; i < gd.Length; i++)
                {
                    float v = xs[i] >= lo && xs[i] <= hi ? gd[i] : 0f;
                    if (acc) gx[i] += v; else gx[i] = v;
                }
            });
        }
        return y;
    }

    private delegate void SpanMap(ReadOnlySpan<float> source, Span<float> destination);

    private static Tensor UnaryFromOutput(Tensor x, SpanMap forward, Func<float, float, float> derivative)
    {
        var y = Tensor.Empty(x.Shape);
        forward(x.Data, y.Data);
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                var gd = g.Data;
                var yd = y.Data;
                for (int i = 0; i < gd.Length; i++)
                {
                    float v = derivative(yd[i], gd[i]);
                    if (acc) gx[i] += v; else gx[i] = v;
                }
            });
        }
        return y;
    }

    private static Tensor UnaryFromInput(Tensor x, SpanMap forward, Func<float, float, float> derivative)
    {
        var y = Tensor.Empty(x.Shape);
        forward(x.Data, y.Data);
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                var gd = g.Data;
                var xd = x.Data;
                for (int i = 0; i < gd.Length; i++)
                {
                    float v = derivative(xd[i], gd[i]);
                    if (acc) gx[i] += v; else gx[i] = v;
                }
            });
        }
        return y;
    }
}
