using System.Numerics.Tensors;
using CrossModal.Tensors;
using Tensor = CrossModal.Tensors.Tensor;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Threading;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// VSRN's <c>l2norm</c> applied to region tensors [B, N, E]: the original sums over dim=1, which on these tensors is
/// the region axis, so every channel of an image is normalised across its N regions, x / ‖x‖ with no epsilon
/// (a channel that is zero in every region gives NaN, as in the original). Vectorised along the channels:
/// per image the squared rows are summed into one vector of channel norms.
/// </summary>
internal static class RegionL2Norm
{
    /// <summary>x [B, N, E] normalised over axis 1; differentiable.</summary>
    public static Tensor Forward(Tensor x)
    {
        if (x.Rank != 3) throw new ArgumentException($"Region l2norm needs [B, N, E], got {Tensor.FormatShape(x.ShapeSpan)}.");
        int b = x.Dim(0), n = x.Dim(1), e = x.Dim(2);
        var y = Tensor.Empty(b, n, e);
        var norms = TensorScope.Allocate(b * e, clear: false);
        float[] xa = x.Buffer, ya = y.Buffer;
        int xo = x.Offset, yo = y.Offset;
        Parallelism.For(b, 1, (b0, b1) =>
        {
            using var inv = new PooledBuffer(e);
            for (int i = b0; i < b1; i++)
            {
                var norm = norms.AsSpan(i * e, e);
                norm.Clear();
                for (int r = 0; r < n; r++)
                {
                    var row = xa.AsSpan(xo + (i * n + r) * e, e);
                    TensorPrimitives.FusedMultiplyAdd(row, row, norm, norm);
                }
                TensorPrimitives.Sqrt(norm, norm);
                TensorPrimitives.Reciprocal(norm, inv.Span);
                for (int r = 0; r < n; r++)
                    TensorPrimitives.Multiply(xa.AsSpan(xo + (i * n + r) * e, e), inv.Span, ya.AsSpan(yo + (i * n + r) * e, e));
            }
        });
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                // y = x / s with s = ‖x‖ per (image, channel): dx = g / s - x (Σ_r g x) / s³ = (g - y (Σ_r g y)) / s.
                var gx = x.GradBuffer(out bool acc);
                float[] ga = g.Buffer, gxa = x.Grad!.Buffer;
                int go = g.Offset, gxo = x.Grad.Offset;
                Parallelism.For(b, 1, (b0, b1) =>
                {
                    using var buf = new PooledBuffer(3 * e);
                    var dot = buf.Span.Slice(0, e);
                    var inv = buf.Span.Slice(e, e);
                    var t = buf.Span.Slice(2 * e, e);
                    for (int i = b0; i < b1; i++)
                    {
                        dot.Clear();
                        for (int r = 0; r < n; r++)
                            TensorPrimitives.FusedMultiplyAdd(ga.AsSpan(go + (i * n + r) * e, e), ya.AsSpan(yo + (i * n + r) * e, e), dot, dot);
                        TensorPrimitives.Reciprocal(norms.AsSpan(i * e, e), inv);
                        for (int r = 0; r < n; r++)
                        {
                            int p = (i * n + r) * e;
                            // t = (g - y ⊙ dot) ⊙ inv
                            TensorPrimitives.Multiply(ya.AsSpan(yo + p, e), dot, t);
                            TensorPrimitives.Subtract(ga.AsSpan(go + p, e), t, t);
                            TensorPrimitives.Multiply(t, inv, t);
                            var dst = gxa.AsSpan(gxo + p, e);
                            if (acc) TensorPrimitives.Add(dst, t, dst);
                            else t.CopyTo(dst);
                        }
                    }
                });
            });
        }
        return y;
    }
}
