using System.Numerics;
using System.Numerics.Tensors;
using CrossModal.Models.Attention;
using CrossModal.Tensors;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Models.Naaf;

/// <summary>
/// NAAF's text-to-image terms of one image (the "owner") against the words of a block of captions, on a per-thread
/// workspace, in the layout of <see cref="AttentionStages"/>: S holds the raw similarities s[r, q] of the image's R
/// regions (rows) with every word q of the block's captions (columns, one segment per caption). Per word q and
/// threshold θ_q of its caption (model.xattn_score / xattn_score_test of CrossmodalGroup/NAAF):
/// <list type="bullet">
/// <item>relevance (positive branch 2, θ-free): α = softmax over regions of λ · clipped_l2norm(s) (the SCAN stages
/// <see cref="RawFeatureNormalization"/> and <see cref="ContextSoftmax"/>), rel_q = Σ_r α[r, q] s[r, q];</item>
/// <item>raw maximum m⁰_q = max_r s[r, q] (the word maxima the threshold learning samples) and the negative-branch
/// input m_q = m⁰_q − θ_q;</item>
/// <item>positive branch 1: e[r, q] = exp(λ (s − θ_q)) where s − θ_q &gt; 0, else exactly 0; p = e / (Σ_r e + 1e-8)
/// (an L1 normalisation, not a max-shifted softmax); f_q = w_q · a_q / max(‖a_q‖, 1e-8) with a_q = Σ_r p v_r, computed
/// without building a_q: w_q · a_q = Σ_r p s and ‖a_q‖² = pᵀ G p with G the regions' Gram matrix.</item>
/// </list>
/// Buffers come from <see cref="TensorPool"/> and go back on <see cref="Dispose"/>.
/// </summary>
internal sealed class NaafBlock : IDisposable
{
    private readonly int _maxRows, _cols, _partners;
    private readonly float[] _pre, _a, _alpha, _p, _gp, _d, _segNorm, _scaled, _dg;
    private readonly float[] _colMax, _colSum, _tmp, _num, _sq, _z;

    public NaafBlock(int maxRows, int cols, int partners)
    {
        _maxRows = maxRows;
        _cols = cols;
        _partners = partners;
        int m = Math.Max(1, maxRows * cols), w = Math.Max(1, cols);
        _pre = TensorPool.Rent(m);
        _a = TensorPool.Rent(m);
        _alpha = TensorPool.Rent(m);
        _p = TensorPool.Rent(m);
        _gp = TensorPool.Rent(m);
        _d = TensorPool.Rent(m);
        _scaled = TensorPool.Rent(m);
        _segNorm = TensorPool.Rent(Math.Max(1, maxRows * partners));
        _dg = TensorPool.Rent(Math.Max(1, maxRows * maxRows));
        _colMax = TensorPool.Rent(w);
        _colSum = TensorPool.Rent(w);
        _tmp = TensorPool.Rent(w);
        _num = TensorPool.Rent(w);
        _sq = TensorPool.Rent(w);
        _z = TensorPool.Rent(w);
    }

    private Span<float> Row(float[] buf, int r) => buf.AsSpan(r * _cols, _cols);

    /// <summary>
    /// The θ-free terms of every column: rel (positive branch 2) and the raw maxima m⁰ with their first argmax.
    /// Keeps α and the normalisation intermediates for <see cref="Backward"/>; an empty <paramref name="argMax"/> skips the argmax (only the backward needs it).
    /// </summary>
    public void Shared(ReadOnlySpan<float> s, int rows, ReadOnlySpan<int> segStart, float lambda, Span<float> rel, Span<float> rawMax, Span<int> argMax)
    {
        if (rows > _maxRows) throw new ArgumentException($"{rows} regions exceed the workspace's {_maxRows}.");
        int cols = _cols;
        for (int r = 0; r < rows; r++)
            RawFeatureNormalization.Forward(RawFeatureNorm.ClippedL2Norm, s.Slice(r * cols, cols), Row(_pre, r), Row(_a, r), segStart, _segNorm.AsSpan(r * _partners, _partners));
        ContextSoftmax.Forward(_a, rows, cols, lambda, _alpha, _colMax, _colSum);
        rel = rel[..cols];
        rel.Clear();
        for (int r = 0; r < rows; r++) TensorPrimitives.FusedMultiplyAdd(Row(_alpha, r), s.Slice(r * cols, cols), rel, rel);
        s[..cols].CopyTo(rawMax);
        if (argMax.IsEmpty)
        {
            // Scoring needs the maxima only: one vector pass per row.
            for (int r = 1; r < rows; r++) TensorPrimitives.Max(rawMax[..cols], s.Slice(r * cols, cols), rawMax[..cols]);
            return;
        }
        argMax[..cols].Clear();
        for (int r = 1; r < rows; r++)
        {
            var row = s.Slice(r * cols, cols);
            for (int q = 0; q < cols; q++)
                if (row[q] > rawMax[q]) { rawMax[q] = row[q]; argMax[q] = r; }
        }
    }

    /// <summary>
    /// Positive branch 1 for columns [q0, q0 + n) of S (row stride: the block width) with thresholds
    /// theta[q0..]: writes f[q0..] and keeps p, G p, Σ e, Σ p s and pᵀ G p at the same columns for the backward.
    /// <paramref name="gram"/>: the image's R x R Gram matrix.
    /// </summary>
    public void Positive(ReadOnlySpan<float> s, int rows, int q0, int n, ReadOnlySpan<float> theta, ReadOnlySpan<float> gram, float lambda, Span<float> f)
    {
        int cols = _cols;
        var th = theta.Slice(q0, n);
        var z = _z.AsSpan(q0, n);
        var num = _num.AsSpan(q0, n);
        var sq = _sq.AsSpan(q0, n);
        var e = _tmp.AsSpan(0, n);
        z.Clear();
        for (int r = 0; r < rows; r++)
        {
            var x = _p.AsSpan(r * cols + q0, n);
            TensorPrimitives.Subtract(s.Slice(r * cols + q0, n), th, x);
            TensorPrimitives.Multiply(x, lambda, e);
            TensorPrimitives.Exp(e, e);
            KeepWherePositive(x, e, x); // x now holds e (0 where s - θ <= 0: the original's -1e9 before exp)
            TensorPrimitives.Add(z, x, z);
        }
        // p = e / (Σ e + 1e-8): Σ e is the original l1norm's Σ|e| (e >= 0).
        var inv = _tmp.AsSpan(0, n);
        TensorPrimitives.Add(z, AttentionStages.Eps, inv);
        TensorPrimitives.Reciprocal(inv, inv);
        num.Clear();
        for (int r = 0; r < rows; r++)
        {
            var p = _p.AsSpan(r * cols + q0, n);
            TensorPrimitives.Multiply(p, inv, p);
            TensorPrimitives.FusedMultiplyAdd(p, s.Slice(r * cols + q0, n), num, num);
        }
        // G p and pᵀ G p.
        Gemm.Multiply(false, false, rows, n, rows, 1f, gram, rows, _p.AsSpan(q0), cols, 0f, _gp.AsSpan(q0), cols);
        sq.Clear();
        for (int r = 0; r < rows; r++) TensorPrimitives.FusedMultiplyAdd(_p.AsSpan(r * cols + q0, n), _gp.AsSpan(r * cols + q0, n), sq, sq);
        var fo = f.Slice(q0, n);
        for (int q = 0; q < n; q++)
        {
            float norm = MathF.Sqrt(MathF.Max(sq[q], 0f));
            fo[q] = num[q] / MathF.Max(norm, AttentionStages.Eps);
        }
    }

    /// <summary>
    /// Back-propagates the per-word totals (neg + f + rel) of the image after <see cref="Shared"/> and
    /// <see cref="Positive"/> over all columns with the same inputs: dTotal[q] is d loss / d total_q. Overwrites dS
    /// (rows x cols) and adds the Gram path into dContext (rows x d). Training only: the negative term's mask is
    /// m_q &lt; 0 (no intra-sentence smoothing), and θ gets no gradient (it is not a parameter).
    /// </summary>
    public void Backward(ReadOnlySpan<float> s, int rows, ReadOnlySpan<int> segStart, ReadOnlySpan<float> theta, ReadOnlySpan<float> rawMax,
        ReadOnlySpan<int> argMax, ReadOnlySpan<float> context, int d, float lambda, ReadOnlySpan<float> dTotal, Span<float> dS, Span<float> dContext)
    {
        int cols = _cols;
        var num = _num.AsSpan(0, cols);
        var sq = _sq.AsSpan(0, cols);
        var dnum = _colMax.AsSpan(0, cols);
        var dsq = _colSum.AsSpan(0, cols);
        for (int q = 0; q < cols; q++)
        {
            float norm = MathF.Sqrt(MathF.Max(sq[q], 0f));
            bool clamped = norm < AttentionStages.Eps;
            float den = clamped ? AttentionStages.Eps : norm;
            dnum[q] = dTotal[q] / den;
            // f = num / ‖a‖, ‖a‖ = sqrt(sq): d sq = -dTotal num / ‖a‖² / (2 ‖a‖); nothing where the clamp holds.
            dsq[q] = clamped ? 0f : -dTotal[q] * num[q] / (den * den) / (2f * den);
        }

        for (int r = 0; r < rows; r++)
        {
            var sRow = s.Slice(r * cols, cols);
            var p = Row(_p, r);
            var dp = Row(_d, r);
            var ds = dS.Slice(r * cols, cols);
            // dp = dnum s + 2 dsq (G p); dS = dnum p (from num = Σ p s) + dTotal α (from rel = Σ α s).
            TensorPrimitives.Multiply(sRow, dnum, dp);
            TensorPrimitives.Multiply(Row(_gp, r), dsq, ds);
            TensorPrimitives.MultiplyAdd(ds, 2f, dp, dp);
            TensorPrimitives.Multiply(p, dnum, ds);
            TensorPrimitives.FusedMultiplyAdd(Row(_alpha, r), dTotal, ds, ds);
            // Scaled copy of p for the Gram path dG = Σ_q dsq_q p_q p_qᵀ.
            TensorPrimitives.Multiply(p, dsq, Row(_scaled, r));
        }
        // The Gram path: G = C Cᵀ, so dC += (dG + dGᵀ) C = 2 dG C.
        Gemm.Multiply(false, true, rows, rows, cols, 1f, _scaled, cols, _p, cols, 0f, _dg, rows);
        Gemm.Multiply(false, false, rows, d, rows, 2f, _dg, rows, context, d, 1f, dContext, d);

        // p = e / (Σ e + ε), e = exp(λ (s - θ)) on the kept entries: dS += λ p (dp - Σ_r dp p).
        var dot = _tmp.AsSpan(0, cols);
        dot.Clear();
        for (int r = 0; r < rows; r++) TensorPrimitives.FusedMultiplyAdd(Row(_d, r), Row(_p, r), dot, dot);
        for (int r = 0; r < rows; r++)
        {
            var dp = Row(_d, r);
            TensorPrimitives.Subtract(dp, dot, dp);
            TensorPrimitives.Multiply(dp, Row(_p, r), dp);
            TensorPrimitives.MultiplyAdd(dp, lambda, dS.Slice(r * cols, cols), dS.Slice(r * cols, cols));
        }

        // Negative branch: the word's maximum where it lies below the threshold.
        for (int q = 0; q < cols; q++)
            if (rawMax[q] - theta[q] < 0f) dS[argMax[q] * cols + q] += dTotal[q];

        // Relevance: dα = dTotal s, through the context softmax and the clipped L2 norm (added to dS).
        for (int r = 0; r < rows; r++) TensorPrimitives.Multiply(s.Slice(r * cols, cols), dTotal, Row(_d, r));
        ContextSoftmax.Backward(_alpha, rows, cols, lambda, _d, _tmp);
        for (int r = 0; r < rows; r++)
            RawFeatureNormalization.Backward(RawFeatureNorm.ClippedL2Norm, s.Slice(r * cols, cols), Row(_pre, r), Row(_a, r), segStart,
                _segNorm.AsSpan(r * _partners, _partners), Row(_d, r), dS.Slice(r * cols, cols));
    }

    /// <summary>dst = x &gt; 0 ? e : 0, vectorised (the signs of s − θ are data-dependent, so no branch).</summary>
    private static void KeepWherePositive(ReadOnlySpan<float> x, ReadOnlySpan<float> e, Span<float> dst)
    {
        int n = x.Length, i = 0;
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var xv = new Vector<float>(x.Slice(i));
            var ev = new Vector<float>(e.Slice(i));
            Vector.ConditionalSelect(Vector.GreaterThan(xv, Vector<float>.Zero), ev, Vector<float>.Zero).CopyTo(dst.Slice(i));
        }
        for (; i < n; i++) dst[i] = x[i] > 0f ? e[i] : 0f;
    }

    public void Dispose()
    {
        foreach (var b in new[] { _pre, _a, _alpha, _p, _gp, _d, _scaled, _segNorm, _dg, _colMax, _colSum, _tmp, _num, _sq, _z })
            TensorPool.Return(b);
    }
}
