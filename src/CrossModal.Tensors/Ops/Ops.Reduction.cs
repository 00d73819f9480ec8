using System.Numerics.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Tensors;

public static partial class Ops
{
    /// <summary>Sum of every element (a rank-0 tensor).</summary>
    public static Tensor SumAll(Tensor x)
    {
        var y = Tensor.Scalar(TensorPrimitives.Sum(x.Data));
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                float v = g.Data[0];
                var gx = x.GradBuffer(out bool acc);
                if (acc) TensorPrimitives.Add(gx, v, gx); else gx.Fill(v);
            });
        }
        return y;
    }

    /// <summary>Mean of every element (a rank-0 tensor).</summary>
    public static Tensor MeanAll(Tensor x) => MulScalar(SumAll(x), 1f / Math.Max(1, x.Length));

    /// <summary>Sum along <paramref name="axis"/>.</summary>
    public static Tensor Sum(Tensor x, int axis, bool keepDim = false)
    {
        axis = x.NormalizeAxis(axis);
        var (outer, n, inner) = SplitAxis(x.ShapeSpan, axis);
        var y = Tensor.Zeros(ShapeWithout(x.ShapeSpan, axis, keepDim));
        var xd = x.Data;
        var yd = y.Data;
        for (int o = 0; o < outer; o++)
        {
            if (inner == 1) yd[o] = TensorPrimitives.Sum(xd.Slice(o * n, n));
            else
            {
                var dst = yd.Slice(o * inner, inner);
                for (int j = 0; j < n; j++) Elementwise.AddInPlace(dst, xd.Slice((o * n + j) * inner, inner));
            }
        }
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                var gd = g.Data;
                for (int o = 0; o < outer; o++)
                    for (int j = 0; j < n; j++)
                    {
                        var dst = gx.Slice((o * n + j) * inner, inner);
                        var src = gd.Slice(o * inner, inner);
                        if (acc) Elementwise.AddInPlace(dst, src); else src.CopyTo(dst);
                    }
            });
        }
        return y;
    }

    /// <summary>Mean along <paramref name="axis"/>.</summary>
    public static Tensor Mean(Tensor x, int axis, bool keepDim = false)
    {
        int n = x.Dim(axis);
        return MulScalar(Sum(x, axis, keepDim), 1f / Math.Max(1, n));
    }

    /// <summary>
    /// Maximum along <paramref name="axis"/> and the index of the first maximum; the gradient goes to that index.
    /// </summary>
    public static (Tensor Values, int[] Indices) Max(Tensor x, int axis, bool keepDim = false)
    {
        axis = x.NormalizeAxis(axis);
        var (outer, n, inner) = SplitAxis(x.ShapeSpan, axis);
        Require(n > 0, "Max: empty axis.");
        var y = Tensor.Empty(ShapeWithout(x.ShapeSpan, axis, keepDim));
        var arg = new int[outer * inner];
        var xd = x.Data;
        var yd = y.Data;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bv = xd[o * n * inner + i];
                for (int j = 1; j < n; j++)
                {
                    float v = xd[(o * n + j) * inner + i];
                    if (v > bv || (float.IsNaN(v) && !float.IsNaN(bv))) { bv = v; best = j; }
                }
                yd[o * inner + i] = bv;
                arg[o * inner + i] = best;
            }
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                if (!acc) gx.Clear();
                var gd = g.Data;
                for (int o = 0; o < outer; o++)
                    for (int i = 0; i < inner; i++)
                        gx[(o * n + arg[o * inner + i]) * inner + i] += gd[o * inner + i];
            });
        }
        return (y, arg);
    }

    /// <summary>Softmax along <paramref name="axis"/> (max-subtracted).</summary>
    public static Tensor Softmax(Tensor x, int axis)
    {
        axis = x.NormalizeAxis(axis);
        var (outer, n, inner) = SplitAxis(x.ShapeSpan, axis);
        var y = Tensor.Empty(x.Shape);
        ForEachLine(x.Data, y.Data, outer, n, inner, static (src, dst) =>
        {
            float m = TensorPrimitives.Max(src);
            TensorPrimitives.Subtract(src, m, dst);
            TensorPrimitives.Exp(dst, dst);
            float s = TensorPrimitives.Sum(dst);
            TensorPrimitives.Divide(dst, s, dst);
        });
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                // dx = y * (g - sum(g * y))
                var gx = x.GradBuffer(out bool acc);
                BackwardLines(g.Data, y.Data, gx, acc, outer, n, inner, static (gl, yl, dst) =>
                {
                    float dot = TensorPrimitives.Dot(gl, yl);
                    TensorPrimitives.Subtract(gl, dot, dst);
                    TensorPrimitives.Multiply(dst, yl, dst);
                });
            });
        }
        return y;
    }

    /// <summary>log(softmax(x)) along <paramref name="axis"/>, computed stably.</summary>
    public static Tensor LogSoftmax(Tensor x, int axis)
    {
        axis = x.NormalizeAxis(axis);
        var (outer, n, inner) = SplitAxis(x.ShapeSpan, axis);
        var y = Tensor.Empty(x.Shape);
        ForEachLine(x.Data, y.Data, outer, n, inner, static (src, dst) =>
        {
            float lse = StableLogSumExp(src);
            TensorPrimitives.Subtract(src, lse, dst);
        });
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                // dx = g - softmax * sum(g)
                var gx = x.GradBuffer(out bool acc);
                BackwardLines(g.Data, y.Data, gx, acc, outer, n, inner, static (gl, yl, dst) =>
                {
                    float s = TensorPrimitives.Sum(gl);
                    TensorPrimitives.Exp(yl, dst);
                    TensorPrimitives.Multiply(dst, -s, dst);
                    TensorPrimitives.Add(dst, gl, dst);
                });
            });
        }
        return y;
    }

    /// <summary>log(sum(exp(x))) along <paramref name="axis"/>, max-subtracted (torch.logsumexp).</summary>
    public static Tensor LogSumExp(Tensor x, int axis, bool keepDim = false)
    {
        axis = x.NormalizeAxis(axis);
        var (outer, n, inner) = SplitAxis(x.ShapeSpan, axis);
        var y = Tensor.Empty(ShapeWithout(x.ShapeSpan, axis, keepDim));
        var xd = x.Data;
        var yd = y.Data;
        using (var line = new PooledBuffer(n))
        {
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    var l = line.Span;
                    for (int j = 0; j < n; j++) l[j] = xd[(o * n + j) * inner + i];
                    yd[o * inner + i] = StableLogSumExp(l);
                }
        }
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                // dx = g * exp(x - y)
                var gx = x.GradBuffer(out bool acc);
                var gd = g.Data;
                var xs = x.Data;
                var ys = y.Data;
                for (int o = 0; o < outer; o++)
                    for (int j = 0; j < n; j++)
                        for (int i = 0; i < inner; i++)
                        {
                            int p = (o * n + j) * inner + i;
                            float v = gd[o * inner + i] * MathF.Exp(xs[p] - ys[o * inner + i]);
                            if (acc) gx[p] += v; else gx[p] = v;
                        }
            });
        }
        return y;
    }

    /// <summary>
    /// x / (||x||_2 + eps) along <paramref name="axis"/> (the field's l2norm; eps = 0 gives VSE++'s variant).
    /// </summary>
    public static Tensor L2Normalize(Tensor x, int axis, float eps = 1e-8f)
    {
        axis = x.NormalizeAxis(axis);
        var (outer, n, inner) = SplitAxis(x.ShapeSpan, axis);
        var y = Tensor.Empty(x.Shape);
        var norms = new float[outer * inner];
        var xd = x.Data;
        var yd = y.Data;
        for (int o = 0; o < outer; o++)
        {
            if (inner == 1)
            {
                var src = xd.Slice(o * n, n);
                float nrm = MathF.Sqrt(TensorPrimitives.Dot(src, src));
                norms[o] = nrm;
                TensorPrimitives.Divide(src, nrm + eps, yd.Slice(o * n, n));
            }
            else
            {
                for (int i = 0; i < inner; i++)
                {
                    float s = 0f;
                    for (int j = 0; j < n; j++) { float v = xd[(o * n + j) * inner + i]; s += v * v; }
                    float nrm = MathF.Sqrt(s);
                    norms[o * inner + i] = nrm;
                    for (int j = 0; j < n; j++) yd[(o * n + j) * inner + i] = xd[(o * n + j) * inner + i] / (nrm + eps);
                }
            }
        }
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                // y = x / d with d = ||x|| + eps: dx = g / d - x (g . x) / (d^2 ||x||); the second term is 0 where ||x|| = 0.
                var gx = x.GradBuffer(out bool acc);
                var gd = g.Data;
                var xs = x.Data;
                if (inner == 1)
                {
                    // Rows along the last axis (the common case: embeddings): vectorised per row.
                    for (int o = 0; o < outer; o++)
                    {
                        float nrm = norms[o], d = nrm + eps;
                        var gRow = gd.Slice(o * n, n);
                        var xRow = xs.Slice(o * n, n);
                        var dst = gx.Slice(o * n, n);
                        float c = nrm > 0f ? TensorPrimitives.Dot(gRow, xRow) / (d * d * nrm) : 0f;
                        if (acc) TensorPrimitives.MultiplyAdd(gRow, 1f / d, dst, dst);
                        else TensorPrimitives.Multiply(gRow, 1f / d, dst);
                        TensorPrimitives.MultiplyAdd(xRow, -c, dst, dst);
                    }
                    return;
                }
                for (int o = 0; o < outer; o++)
                    for (int i = 0; i < inner; i++)
                    {
                        float nrm = norms[o * inner + i], d = nrm + eps;
                        float dot = 0f;
                        for (int j = 0; j < n; j++) { int p = (o * n + j) * inner + i; dot += gd[p] * xs[p]; }
                        float c = nrm > 0f ? dot / (d * d * nrm) : 0f;
                        for (int j = 0; j < n; j++)
                        {
                            int p = (o * n + j) * inner + i;
                            float v = gd[p] / d - xs[p] * c;
                            if (acc) gx[p] += v; else gx[p] = v;
                        }
                    }
            });
        }
        return y;
    }

    internal static float StableLogSumExp(ReadOnlySpan<float> v)
    {
        if (v.Length == 0) return float.NegativeInfinity;
        float m = TensorPrimitives.Max(v);
        if (float.IsNegativeInfinity(m) || float.IsPositiveInfinity(m)) return m;
        float s = 0f;
        foreach (float t in v) s += MathF.Exp(t - m);
        return m + MathF.Log(s);
    }

    private delegate void LineMap(ReadOnlySpan<float> source, Span<float> destination);

    private delegate void LineBackward(ReadOnlySpan<float> grad, ReadOnlySpan<float> output, Span<float> destination);

    /// <summary>Applies <paramref name="map"/> to every line along the split axis (gathering strided lines).</summary>
    private static void ForEachLine(ReadOnlySpan<float> x, Span<float> y, int outer, int n, int inner, LineMap map)
    {
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) map(x.Slice(o * n, n), y.Slice(o * n, n));
            return;
        }
        using var a = new PooledBuffer(n);
        using var b = new PooledBuffer(n);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                for (int j = 0; j < n; j++) a.Span[j] = x[(o * n + j) * inner + i];
                map(a.Span, b.Span);
                for (int j = 0; j < n; j++) y[(o * n + j) * inner + i] = b.Span[j];
            }
    }

    private static void BackwardLines(ReadOnlySpan<float> g, ReadOnlySpan<float> y, Span<float> gx, bool acc, int outer, int n, int inner, LineBackward f)
    {
        using var gl = new PooledBuffer(n);
        using var yl = new PooledBuffer(n);
        using var dl = new PooledBuffer(n);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                for (int j = 0; j < n; j++) { int p = (o * n + j) * inner + i; gl.Span[j] = g[p]; yl.Span[j] = y[p]; }
                f(gl.Span, yl.Span, dl.Span);
                for (int j = 0; j < n; j++)
                {
                    int p = (o * n + j) * inner + i;
                    if (acc) gx[p] += dl.Span[j]; else gx[p] = dl.Span[j];
                }
            }
    }
}
