using System.Numerics.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Tensors;

public static partial class Ops
{
    /// <summary>a + b with NumPy/PyTorch broadcasting.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary(a, b, BinaryOperation.Add);

    /// <summary>a - b with broadcasting.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => Binary(a, b, BinaryOperation.Subtract);

    /// <summary>a * b (element-wise) with broadcasting.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => Binary(a, b, BinaryOperation.Multiply);

    /// <summary>a / b (element-wise) with broadcasting.</summary>
    public static Tensor Div(Tensor a, Tensor b) => Binary(a, b, BinaryOperation.Divide);

    /// <summary>x + s.</summary>
    public static Tensor AddScalar(Tensor x, float s)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Add(x.Data, s, y.Data);
        if (Tape.Needs(x)) Tape.Record(y, g => x.AccumulateGrad(g.Data));
        return y;
    }

    /// <summary>x * s.</summary>
    public static Tensor MulScalar(Tensor x, float s)
    {
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Multiply(x.Data, s, y.Data);
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                if (acc) Elementwise.AxpyInPlace(gx, s, g.Data); else TensorPrimitives.Multiply(g.Data, s, gx);
            });
        }
        return y;
    }

    /// <summary>s - x.</summary>
    public static Tensor RSubScalar(float s, Tensor x) => AddScalar(MulScalar(x, -1f), s);

    /// <summary>-x.</summary>
    public static Tensor Neg(Tensor x) => MulScalar(x, -1f);

    /// <summary>x^p for a scalar exponent.</summary>
    public static Tensor PowScalar(Tensor x, float p)
    {
        var y = Tensor.Empty(x.Shape);
        var xd = x.Data;
        var yd = y.Data;
        for (int i = 0; i < yd.Length; i++) yd[i] = MathF.Pow(xd[i], p);
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                var gd = g.Data;
                var xs = x.Data;
                for (int i = 0; i < gd.Length; i++)
                {
                    float v = gd[i] * p * MathF.Pow(xs[i], p - 1f);
                    if (acc) gx[i] += v; else gx[i] = v;
                }
            });
        }
        return y;
    }

    /// <summary>The broadcast shape of two shapes, or an error naming both.</summary>
    public static int[] BroadcastShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int r = Math.Max(a.Length, b.Length);
        var s = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1;
            int db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"Shapes {Tensor.FormatShape(a)} and {Tensor.FormatShape(b)} do not broadcast.");
            s[i] = da == 1 ? db : da;
        }
        return s;
    }

    private static Tensor Binary(Tensor a, Tensor b, BinaryOperation kind)
    {
        var outShape = BroadcastShape(a.ShapeSpan, b.ShapeSpan);
        var y = Tensor.Empty(outShape);
        Broadcasting.Apply(kind, a.Data, a.ShapeSpan, b.Data, b.ShapeSpan, y.Data, outShape);
        if (Tape.Needs(a, b))
        {
            Tape.Record(y, g =>
            {
                var gd = g.Data;
                if (a.RequiresGrad)
                {
                    switch (kind)
                    {
                        case BinaryOperation.Add or BinaryOperation.Subtract:
                            ReduceGradInto(a, gd, outShape);
                            break;
                        case BinaryOperation.Multiply:
                            ReduceProductInto(a, gd, b, outShape, BinaryOperation.Multiply);
                            break;
                        case BinaryOperation.Divide:
                            ReduceProductInto(a, gd, b, outShape, BinaryOperation.Divide);
                            break;
                    }
                }
                if (b.RequiresGrad)
                {
                    switch (kind)
                    {
                        case BinaryOperation.Add:
                            ReduceGradInto(b, gd, outShape);
                            break;
                        case BinaryOperation.Subtract:
                        {
                            using var t = new PooledBuffer(gd.Length);
                            TensorPrimitives.Negate(gd, t.Span);
                            ReduceGradInto(b, t.Span, outShape);
                            break;
                        }
                        case BinaryOperation.Multiply:
                            ReduceProductInto(b, gd, a, outShape, BinaryOperation.Multiply);
                            break;
                        case BinaryOperation.Divide:
                        {
                            // d(a/b)/db = -(a/b) / b = -y / b.
                            using var t = new PooledBuffer(gd.Length);
                            var yd = y.Data;
                            Broadcasting.Apply(BinaryOperation.Divide, yd, outShape, b.Data, b.ShapeSpan, t.Span, outShape);
                            TensorPrimitives.Multiply(t.Span, gd, t.Span);
                            TensorPrimitives.Negate(t.Span, t.Span);
                            ReduceGradInto(b, t.Span, outShape);
                            break;
                        }
                    }
                }
            });
        }
        return y;
    }

    /// <summary>target.grad += reduce(g op other) to target's shape.</summary>
    private static void ReduceProductInto(Tensor target, ReadOnlySpan<float> g, Tensor other, int[] outShape, BinaryOperation kind)
    {
        using var t = new PooledBuffer(g.Length);
        Broadcasting.Apply(kind, g, outShape, other.Data, other.ShapeSpan, t.Span, outShape);
        ReduceGradInto(target, t.Span, outShape);
    }

    /// <summary>Adds <paramref name="g"/> (of <paramref name="outShape"/>) into target's gradient, summing broadcast axes.</summary>
    internal static void ReduceGradInto(Tensor target, ReadOnlySpan<float> g, int[] outShape)
    {
        var gt = target.GradBuffer(out bool acc);
        if (gt.Length == g.Length)
        {
            if (acc) Elementwise.AddInPlace(gt, g); else g.CopyTo(gt);
            return;
        }
        if (!acc) gt.Clear();
        var strides = Broadcasting.Strides(target.ShapeSpan, outShape);
        StridedAccumulate(g, outShape, strides, gt);
    }

    /// <summary>dst[strided(i)] += src[i] over every index i of outShape.</summary>
    private static void StridedAccumulate(ReadOnlySpan<float> src, int[] outShape, int[] dstStrides, Span<float> dst)
    {
        int r = outShape.Length;
        if (src.Length == 0) return;
        int innerN = outShape[r - 1], innerS = dstStrides[r - 1];
        var idx = new int[r];
        int pos = 0;
        for (int o = 0; o < src.Length; o += innerN)
        {
            var s = src.Slice(o, innerN);
            if (innerS == 1) Elementwise.AddInPlace(dst.Slice(pos, innerN), s);
            else if (innerS == 0) dst[pos] += TensorPrimitives.Sum(s);
            else for (int j = 0; j < innerN; j++) dst[pos + j * innerS] += s[j];
            for (int ax = r - 2; ax >= 0; ax--)
            {
                idx[ax]++;
                pos += dstStrides[ax];
                if (idx[ax] < outShape[ax]) break;
                pos -= idx[ax] * dstStrides[ax];
                idx[ax] = 0;
            }
        }
    }
}
