using System.Numerics.Tensors;
using CrossModal.Tensors;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Nn;
using CrossModal.Tensors.Threading;
using Tensor = CrossModal.Tensors.Tensor;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// An <see cref="RsGcn"/> block of a model whose weights no longer change (evaluation mode): the same function with
/// half the GEMM work. With the rows of v the regions, θ = vWθᵀ + bθ, φ = vWφᵀ + bφ and g = vWgᵀ + bg:
/// N·R = θφᵀ = U vᵀ + (v p + c) 1ᵀ, where U = v (Wθᵀ Wφ) + 1 (Wφᵀ bθ)ᵀ, p = Wθᵀ bφ and c = bθ·bφ; and the
/// BatchNorm after W.0 uses its running statistics, an affine map (scale s = γ / √(var + ε)), so
/// BN(W(R g)) = R P + (R 1) hᵀ + 1 kᵀ with P = v (diag(s) Ww Wg)ᵀ, h = s ⊙ (Ww bg) and k = s ⊙ (bw − μ) + β.
/// U and P are one D x D product of v each; θ, φ, g and W(y) are never formed: two D x D products per region instead
/// of four. The two weight products (and the vectors h, k, p) are computed once, when the block is folded.
/// </summary>
internal sealed class FoldedRsGcn
{
    private readonly int _d;
    private readonly Tensor _top, _topBias, _bottom, _p, _h, _k;
    private readonly float _c;

    /// <summary>Folds the block's convolutions g, W.0 (with its BatchNorm W.1), θ and φ.</summary>
    public FoldedRsGcn(Conv1d g, Conv1d w, BatchNorm1d bn, Conv1d theta, Conv1d phi)
    {
        int d = _d = g.InChannels;
        ReadOnlySpan<float> wg = g.Weight.Data, ww = w.Weight.Data, wt = theta.Weight.Data, wp = phi.Weight.Data;
        ReadOnlySpan<float> bg = g.Bias!.Data, bw = w.Bias!.Data, bt = theta.Bias!.Data, bp = phi.Bias!.Data;
        var s = new float[d];
        for (int j = 0; j < d; j++) s[j] = bn.Weight.Data[j] / MathF.Sqrt(bn.RunningVar.Data[j] + bn.Eps);

        // (Wθᵀ Wφ)ᵀ = Wφᵀ Wθ, so that v times its transpose is U; and diag(s) Ww Wg, so that v times its transpose is P.
        _top = Tensor.Zeros(d, d);
        Gemm.Multiply(true, false, d, d, d, 1f, wp, d, wt, d, 0f, _top.Data, d);
        _bottom = Tensor.Zeros(d, d);
        var bottom = _bottom.Data;
        Gemm.Multiply(false, false, d, d, d, 1f, ww, d, wg, d, 0f, bottom, d);
        for (int j = 0; j < d; j++)
        {
            var row = bottom.Slice(j * d, d);
            TensorPrimitives.Multiply(row, s[j], row);
        }

        // U's bias Wφᵀ bθ, p = Wθᵀ bφ, h = s ⊙ (Ww bg), k = s ⊙ (bw − μ) + β, c = bθ·bφ.
        _topBias = Tensor.Zeros(d);
        Gemm.Multiply(true, false, d, 1, d, 1f, wp, d, bt, 1, 0f, _topBias.Data, 1);
        _p = Tensor.Zeros(1, d);
        Gemm.Multiply(true, false, d, 1, d, 1f, wt, d, bp, 1, 0f, _p.Data, 1);
        _h = Tensor.Zeros(d);
        Gemm.Multiply(false, false, d, 1, d, 1f, ww, d, bg, 1, 0f, _h.Data, 1);
        _k = Tensor.Zeros(d);
        for (int j = 0; j < d; j++)
        {
            _h.Data[j] *= s[j];
            _k.Data[j] = s[j] * (bw[j] - bn.RunningMean.Data[j]) + bn.Bias.Data[j];
        }
        double c = 0;
        for (int j = 0; j < d; j++) c += (double)bt[j] * bp[j];
        _c = (float)c;
    }

    /// <summary>Regions [B, N, D] to [B, N, D], as <see cref="RsGcn.Forward"/> in evaluation mode (no gradients).</summary>
    public Tensor Forward(Tensor v)
    {
        int b = v.Dim(0), n = v.Dim(1), d = _d;
        var u = Ops.Linear(v, _top, _topBias);
        var p = Ops.Linear(v, _bottom, null);
        var rowTerms = Ops.AddScalar(Ops.Linear(v, _p, null), _c);
        var r = Ops.MulScalar(Ops.Add(Ops.BatchedMatMul(u, v, transB: true), rowTerms), 1f / n);
        // y = R P + (R 1) hᵀ + k + v, the last three added row by row in place.
        var y = Ops.BatchedMatMul(r, p);
        float[] ya = y.Buffer, va = v.Buffer, ra = r.Buffer;
        int yo = y.Offset, vo = v.Offset, ro = r.Offset;
        Parallelism.For(b * n, 64, (r0, r1) =>
        {
            ReadOnlySpan<float> hh = _h.Data, kk = _k.Data;
            for (int row = r0; row < r1; row++)
            {
                var dst = ya.AsSpan(yo + row * d, d);
                float rowSum = TensorPrimitives.Sum(ra.AsSpan(ro + row * n, n));
                TensorPrimitives.MultiplyAdd(hh, rowSum, dst, dst);
                TensorPrimitives.Add(dst, kk, dst);
                TensorPrimitives.Add(dst, va.AsSpan(vo + row * d, d), dst);
            }
        });
        return y;
    }
}
