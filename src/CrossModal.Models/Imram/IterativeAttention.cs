using System.Numerics.Tensors;
using CrossModal.Models.Attention;
using CrossModal.Tensors;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Models.Imram;

/// <summary>
/// IMRAM's K-step matching of one "owner" against a block of partners, forward and backward, on a per-thread
/// workspace. The owner holds the context (t2i: an image, rows = its regions; i2t: a caption, rows = its words), the
/// partners bring the query items (t2i: the words of every caption of the block; i2t: the regions of every image),
/// laid out as the columns of S, one segment per partner (<see cref="AttentionStages"/>).
/// <para>
/// Step k (xattn_score_Text_IMRAM / xattn_score_Image_IMRAM): S_k = C Q_kᵀ, a_k = raw_feature_norm(S_k) across the
/// query items, α_k = softmax over the context rows of λ a_k, the attended vectors c_k = α_kᵀ C, the step score of a
/// partner = mean over its query items of cos(q0, c_k) (always the ORIGINAL query q0), and, unless k is the last
/// step, the memory update Q_{k+1} = <see cref="MemoryGate"/>(Q_k, c_k). The final score is the sum over steps.
/// The update after the last step is skipped: the original computes it and throws it away.
/// </para>
/// <para>
/// Exact reformulations that keep the per-pair d-wide work to what the method needs: q0·c_k = Σ_c α_k[c,q] S_1[c,q]
/// and ‖c_k‖² = α_kᵀ G α_k (G = C Cᵀ), so the cosine never builds c_k; W z + b = W_q Q_k + αᵀ (C W_cᵀ) + b
/// (<see cref="GateWeights"/>), where C W_cᵀ is per owner and W_q Q_1 is shared by all owners (the caller passes it).
/// Only W_q Q_k for k ≥ 2 is a per-pair GEMM: K ≤ 2 has no per-pair d x d work at all.
/// </para>
/// <para>
/// Memory: the workspace holds one owner's K steps (S-sized matrices and K−1 query/gate matrices of cols x d);
/// nothing is per pair of the whole batch, so a batch's memory is bounded by one owner per thread.
/// </para>
/// </summary>
internal sealed class IterativeAttention : IDisposable
{
    private readonly ImramOptions _o;
    private readonly int _maxRows, _cols, _d, _partners, _k;
    private readonly int[] _segStart;
    private readonly List<float[]> _rented = new();

    // Forward storage, per step k (0-based): S_k (S_0 is the step-1 similarity every cosine uses), the normalised
    // logits, the weights, Gα, the segment norms, the cosine's numerator and squared attended norm.
    private readonly float[][] _s, _pre, _a, _alpha, _ga, _segNorm, _num, _sq;
    // Per update k < K-1: h, g, the updated query Q_{k+1}, its norms before normalisation.
    private readonly float[][] _h, _g, _q, _uNorm;
    private readonly float[] _gram, _cw, _p, _colMax, _colSum;
    // Backward scratch (rented on first use).
    private float[]? _dAlpha, _dS1, _dSk, _dP, _dCW, _dG, _tmp, _dcos, _dnum, _dsq;
    private float[][]? _dQ;

    private int _rows;

    public IterativeAttention(ImramOptions o, int maxRows, int cols, int d, int[] segStart)
    {
        _o = o;
        _maxRows = maxRows;
        _cols = cols;
        _d = d;
        _segStart = segStart;
        _partners = segStart.Length - 1;
        _k = o.IterationStep;
        int sm = maxRows * cols;
        _s = Many(_k, sm);
        _pre = Many(_k, sm);
        _a = Many(_k, sm);
        _alpha = Many(_k, sm);
        _ga = Many(_k, sm);
        _segNorm = Many(_k, maxRows * _partners);
        _num = Many(_k, cols);
        _sq = Many(_k, cols);
        _h = Many(_k - 1, cols * d);
        _g = Many(_k - 1, cols * d);
        _q = Many(_k - 1, cols * d);
        _uNorm = Many(_k - 1, cols);
        _gram = Rent(maxRows * maxRows);
        _cw = Rent(_k > 1 ? maxRows * 2 * d : 1);
        _p = Rent(_k > 1 ? cols * 2 * d : 1);
        _colMax = Rent(cols);
        _colSum = Rent(cols);
    }

    private float[] Rent(int n)
    {
        var b = TensorPool.Rent(Math.Max(1, n));
        _rented.Add(b);
        return b;
    }

    private float[][] Many(int count, int n)
    {
        var r = new float[Math.Max(0, count)][];
        for (int i = 0; i < r.Length; i++) r[i] = Rent(n);
        return r;
    }

    private Span<float> Row(float[] m, int c) => m.AsSpan(c * _cols, _cols);

    /// <summary>
    /// The K steps for one owner: context C (rows x d), query columns q0 (cols x d) with their norms, and (K ≥ 2)
    /// qp0 = q0 W_qᵀ (cols x 2d, shared by all owners). Each partner's score is ADDED to scores[p * stride].
    /// </summary>
    public void Forward(ReadOnlySpan<float> context, int rows, ReadOnlySpan<float> q0, ReadOnlySpan<float> q0Norms, ReadOnlySpan<float> qp0,
        GateWeights? w, Span<float> scores, int stride)
    {
        if (rows > _maxRows) throw new ArgumentException($"{rows} context rows exceed the workspace's {_maxRows}.");
        _rows = rows;
        int n = rows, cols = _cols, d = _d, d2 = 2 * d;
        var s0 = _s[0].AsSpan(0, n * cols);
        RawSimilarity.Forward(context, n, q0, cols, d, s0);
        Gemm.Multiply(false, true, n, n, d, 1f, context, d, context, d, 0f, _gram, n);
        if (_k > 1) Gemm.Multiply(false, true, n, d2, d, 1f, context, d, w!.Attended, d, 0f, _cw, d2);
        for (int k = 0; k < _k; k++)
        {
            var qk = k == 0 ? q0 : _q[k - 1].AsSpan(0, cols * d);
            if (k > 0) RawSimilarity.Forward(context, n, qk, cols, d, _s[k].AsSpan(0, n * cols));
            for (int c = 0; c < n; c++)
                RawFeatureNormalization.Forward(_o.RawFeatureNorm, Row(_s[k], c), Row(_pre[k], c), Row(_a[k], c), _segStart,
                    _segNorm[k].AsSpan(c * _partners, _partners));
            ContextSoftmax.Forward(_a[k], n, cols, _o.LambdaSoftmax, _alpha[k], _colMax, _colSum);
            Gemm.Multiply(false, false, n, cols, n, 1f, _gram, n, _alpha[k], cols, 0f, _ga[k], cols);
            var num = _num[k].AsSpan(0, cols);
            var sq = _sq[k].AsSpan(0, cols);
            num.Clear();
            sq.Clear();
            for (int c = 0; c < n; c++)
            {
                TensorPrimitives.FusedMultiplyAdd(Row(_alpha[k], c), Row(_s[0], c), num, num);
                TensorPrimitives.FusedMultiplyAdd(Row(_alpha[k], c), Row(_ga[k], c), sq, sq);
            }
            for (int p = 0; p < _partners; p++)
            {
                int q0i = _segStart[p], q1 = _segStart[p + 1];
                float sum = 0f;
                for (int q = q0i; q < q1; q++)
                    sum += num[q] / MathF.Max(q0Norms[q] * MathF.Sqrt(MathF.Max(sq[q], 0f)), AttentionStages.Eps);
                scores[p * stride] += sum / (q1 - q0i);
            }
            if (k == _k - 1) break;  // the update after the last step changes no score
            var pre = _p.AsSpan(0, cols * d2);
            if (k == 0) qp0.CopyTo(pre);
            else Gemm.Multiply(false, true, cols, d2, d, 1f, qk, d, w!.Query, d, 0f, pre, d2);
            Gemm.Multiply(true, false, cols, d2, n, 1f, _alpha[k], cols, _cw, d2, 1f, pre, d2);
            for (int q = 0; q < cols; q++) TensorPrimitives.Add(pre.Slice(q * d2, d2), w!.Bias, pre.Slice(q * d2, d2));
            MemoryGate.Forward(qk, pre, cols, d, _h[k], _g[k], _q[k], _o.NormalizeQuery, _uNorm[k]);
        }
    }

    /// <summary>The weights α of step <paramref name="step"/> of the last <see cref="Forward"/>: [rows (context) x cols (query)], each column summing to 1.</summary>
    public ReadOnlySpan<float> Attention(int step) => _alpha[step].AsSpan(0, _rows * _cols);

    private void EnsureBackward()
    {
        if (_dAlpha is not null) return;
        int sm = _maxRows * _cols;
        _dAlpha = Rent(sm);
        _dS1 = Rent(sm);
        _dSk = Rent(sm);
        _tmp = Rent(sm);
        _dP = Rent(_k > 1 ? _cols * 2 * _d : 1);
        _dCW = Rent(_k > 1 ? _maxRows * 2 * _d : 1);
        _dG = Rent(_maxRows * _maxRows);
        _dcos = Rent(_cols);
        _dnum = Rent(_cols);
        _dsq = Rent(_cols);
        _dQ = _k > 1 ? [Rent(_cols * _d), Rent(_cols * _d)] : [];
    }

    /// <summary>
    /// Back-propagates dScores (one per partner, at dScores[p * stride]) through the <see cref="Forward"/> just run for
    /// this owner: d context into dContext (rows x d, overwritten); ADDED: d q0 (cols x d), d qp0 (cols x 2d, K ≥ 2;
    /// the caller turns it into W_q and q0 gradients once for all owners), and the gate gradients dWq, dWc [2d, d],
    /// dB [2d].
    /// </summary>
    public void Backward(ReadOnlySpan<float> context, ReadOnlySpan<float> q0, ReadOnlySpan<float> q0Norms, GateWeights? w,
        ReadOnlySpan<float> dScores, int stride, Span<float> dContext, Span<float> dQ0, Span<float> dQp0,
        Span<float> dWq, Span<float> dWc, Span<float> dB)
    {
        EnsureBackward();
        int n = _rows, cols = _cols, d = _d, d2 = 2 * d;
        var dcos = _dcos.AsSpan(0, cols);
        for (int p = 0; p < _partners; p++)
        {
            int a = _segStart[p], b = _segStart[p + 1];
            dcos.Slice(a, b - a).Fill(dScores[p * stride] / (b - a));
        }
        var dS1 = _dS1.AsSpan(0, n * cols);
        dS1.Clear();
        _dG.AsSpan(0, n * n).Clear();
        if (_k > 1) _dCW.AsSpan(0, n * d2).Clear();
        dContext = dContext[..(n * d)];
        dContext.Clear();
        Span<float> dQNext = default;
        for (int k = _k - 1; k >= 0; k--)
        {
            var alpha = _alpha[k];
            var dnum = _dnum.AsSpan(0, cols);
            var dsq = _dsq.AsSpan(0, cols);
            // cos = num / max(‖q0‖ √sq, ε): the clamp passes no gradient to the norms.
            for (int q = 0; q < cols; q++)
            {
                float nq = q0Norms[q], sqv = MathF.Max(_sq[k][q], 0f), sr = MathF.Sqrt(sqv), raw = nq * sr;
                float den = MathF.Max(raw, AttentionStages.Eps);
                dnum[q] = dcos[q] / den;
                if (raw > AttentionStages.Eps)
                {
                    float dden = -dcos[q] * _num[k][q] / (den * den);
                    dsq[q] = dden * nq / (2f * sr);
                    // ‖q0‖ path: d q0 += dden √sq q0 / ‖q0‖.
                    TensorPrimitives.MultiplyAdd(q0.Slice(q * d, d), dden * sr / nq, dQ0.Slice(q * d, d), dQ0.Slice(q * d, d));
                }
                else dsq[q] = 0f;
            }
            // dα = dnum S_1 + 2 dsq Gα; dS_1 += dnum α; dG += (α dsq) αᵀ.
            var tmp = _tmp.AsSpan(0, n * cols);
            for (int c = 0; c < n; c++)
            {
                var da = Row(_dAlpha!, c);
                TensorPrimitives.Multiply(dnum, Row(_s[0], c), da);
                TensorPrimitives.Multiply(dsq, Row(_ga[k], c), Row(_tmp!, c));
                TensorPrimitives.MultiplyAdd(Row(_tmp!, c), 2f, da, da);
                TensorPrimitives.FusedMultiplyAdd(dnum, Row(alpha, c), Row(_dS1!, c), Row(_dS1!, c));
                TensorPrimitives.Multiply(dsq, Row(alpha, c), Row(_tmp!, c));
            }
            Gemm.Multiply(false, true, n, n, cols, 1f, tmp, cols, alpha, cols, 1f, _dG, n);

            var qk = k == 0 ? q0 : _q[k - 1].AsSpan(0, cols * d);
            Span<float> dQk = k == 0 ? dQ0 : _dQ![k % 2].AsSpan(0, cols * d);
            if (k > 0) dQk.Clear();
            if (k < _k - 1)
            {
                // Memory update k: Q_{k+1} = gate(Q_k, pre_k), pre_k = W_q Q_k + αᵀ (C W_cᵀ) + b.
                var dP = _dP.AsSpan(0, cols * d2);
                MemoryGate.Backward(qk, _h[k], _g[k], _q[k], _o.NormalizeQuery, _uNorm[k], cols, d, dQNext, dP, dQk);
                for (int q = 0; q < cols; q++) TensorPrimitives.Add(dB, dP.Slice(q * d2, d2), dB);
                Gemm.Multiply(false, true, n, cols, d2, 1f, _cw, d2, dP, d2, 1f, _dAlpha!, cols);
                Gemm.Multiply(false, false, n, d2, cols, 1f, alpha, cols, dP, d2, 1f, _dCW!, d2);
                if (k == 0) TensorPrimitives.Add(dQp0, dP, dQp0);
                else
                {
                    Gemm.Multiply(true, false, d2, d, cols, 1f, dP, d2, qk, d, 1f, dWq, d);
                    Gemm.Multiply(false, false, cols, d, d2, 1f, dP, d2, w!.Query, d, 1f, dQk, d);
                }
            }
            ContextSoftmax.Backward(alpha, n, cols, _o.LambdaSoftmax, _dAlpha, _colMax);
            var dS = k == 0 ? _dS1! : _dSk!;
            if (k > 0) dS.AsSpan(0, n * cols).Clear();
            for (int c = 0; c < n; c++)
                RawFeatureNormalization.Backward(_o.RawFeatureNorm, Row(_s[k], c), Row(_pre[k], c), Row(_a[k], c), _segStart,
                    _segNorm[k].AsSpan(c * _partners, _partners), Row(_dAlpha!, c), Row(dS, c));
            if (k > 0)
            {
                RawSimilarity.Backward(context, n, qk, cols, d, _dSk.AsSpan(0, n * cols), dContext, accumulateContext: true, dQk, accumulateQuery: true);
                dQNext = dQk;
            }
        }
        RawSimilarity.Backward(context, n, q0, cols, d, dS1, dContext, accumulateContext: true, dQ0, accumulateQuery: true);
        // G = C Cᵀ: dC += (dG + dGᵀ) C.
        Gemm.Multiply(false, false, n, d, n, 1f, _dG, n, context, d, 1f, dContext, d);
        Gemm.Multiply(true, false, n, d, n, 1f, _dG, n, context, d, 1f, dContext, d);
        if (_k > 1)
        {
            // CW = C W_cᵀ: dW_c += dCWᵀ C, dC += dCW W_c.
            Gemm.Multiply(true, false, d2, d, n, 1f, _dCW, d2, context, d, 1f, dWc, d);
            Gemm.Multiply(false, false, n, d, d2, 1f, _dCW, d2, w!.Attended, d, 1f, dContext, d);
        }
    }

    public void Dispose()
    {
        foreach (var b in _rented) TensorPool.Return(b);
        _rented.Clear();
    }
}
