using System.Numerics.Tensors;
using CrossModal.Tensors;
using CrossModal.Models.Attention;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Models.Scan;

/// <summary>
/// The SCAN attention of one "owner" against a block of partners, on a per-thread workspace.
/// <para>
/// Layout (what makes it fast): S holds the raw similarities of the owner's context items (rows) with the query
/// items of every partner (columns, one segment per partner). t2i: the owner is an image (rows = its regions),
/// partners are captions (segments = their words). i2t: the owner is a caption (rows = its words), partners are
/// images (segments = their regions). Every per-pair step of the original (LeakyReLU, L2 norm over the query
/// axis, softmax over the context axis, relevance, pooling) becomes a row or column operation over all partners
/// at once, vectorised along the columns.
/// </para>
/// <para>
/// The attended vectors are never built: for query q with attention α over the context c,
/// q·att = Σ_c α_c (q·c) = Σ_c α_c S[c, q], and ‖att‖² = αᵀGα with G = C Cᵀ the owner's Gram matrix, so the
/// relevance R_q = q·att / max(‖q‖‖att‖, ε) costs one small GEMM (G α) instead of a context x d product.
/// </para>
/// <para>
/// Lifetime: buffers come from <see cref="TensorPool"/> and go back on <see cref="Dispose"/>; one instance per
/// worker thread, reused for every owner it processes.
/// </para>
/// </summary>
internal sealed class AttentionBlock : IDisposable
{
    private readonly CrossAttentionOptions _o;
    private readonly int _maxRows, _cols, _partners;
    private readonly float[] _pre, _a, _alpha, _ga, _dAlpha, _segNorm, _g;
    private readonly float[] _num, _attn, _den, _rel, _colMax, _colSum, _tmp;

    // Set by Forward, read by Backward.
    private int _rows;

    public AttentionBlock(CrossAttentionOptions options, int maxRows, int cols, int partners)
    {
        _o = options;
        _maxRows = maxRows;
        _cols = cols;
        _partners = partners;
        int m = Math.Max(1, maxRows * cols);
        _pre = TensorPool.Rent(m);
        _a = TensorPool.Rent(m);
        _alpha = TensorPool.Rent(m);
        _ga = TensorPool.Rent(m);
        _dAlpha = TensorPool.Rent(m);
        _segNorm = TensorPool.Rent(Math.Max(1, maxRows * partners));
        _g = TensorPool.Rent(Math.Max(1, maxRows * maxRows));
        _num = TensorPool.Rent(Math.Max(1, cols));
        _attn = TensorPool.Rent(Math.Max(1, cols));
        _den = TensorPool.Rent(Math.Max(1, cols));
        _rel = TensorPool.Rent(Math.Max(1, cols));
        _colMax = TensorPool.Rent(Math.Max(1, cols));
        _colSum = TensorPool.Rent(Math.Max(1, cols));
        _tmp = TensorPool.Rent(Math.Max(1, cols));
    }

    private Span<float> Row(float[] buf, int c) => buf.AsSpan(c * _cols, _cols);

    /// <summary>
    /// Scores the owner against every partner. <paramref name="s"/>: rows x cols (row stride <paramref name="ldS"/>);
    /// <paramref name="context"/>: the owner's rows x d context vectors (for G); <paramref name="segStart"/>:
    /// partner p's columns are [segStart[p], segStart[p+1]); <paramref name="queryNorms"/>: ‖q‖ per column.
    /// Writes partner p's score to scores[p * scoreStride].
    /// </summary>
    public void Forward(ReadOnlySpan<float> s, int ldS, int rows, ReadOnlySpan<float> context, int d,
        ReadOnlySpan<int> segStart, ReadOnlySpan<float> queryNorms, Span<float> scores, int scoreStride)
    {
        if (rows > _maxRows) throw new ArgumentException($"{rows} context rows exceed the workspace's {_maxRows}.");
        _rows = rows;
        int cols = _cols;
        float eps = CrossAttentionOptions.Eps;

        // G = C Cᵀ of the owner's context vectors.
        Gemm.Multiply(false, true, rows, rows, d, 1f, context, d, context, d, 0f, _g, rows);

        // 1. Raw-feature normalisation across the query axis (within each partner's segment of a row).
        for (int c = 0; c < rows; c++)
            RawFeatureNormalization.Forward(_o.RawFeatureNorm, s.Slice(c * ldS, cols), Row(_pre, c), Row(_a, c), segStart, _segNorm.AsSpan(c * _partners, _partners));

        // 2. α = softmax over the context rows of λ1·a, per column.
        ContextSoftmax.Forward(_a, rows, cols, _o.LambdaSoftmax, _alpha, _colMax, _colSum);

        // 3. num_q = Σ_c α S = q · att_q.
        var num = _num.AsSpan(0, cols);
        num.Clear();
        for (int c = 0; c < rows; c++) TensorPrimitives.FusedMultiplyAdd(Row(_alpha, c), s.Slice(c * ldS, cols), num, num);

        // 4-5. GA = G α; ‖att_q‖² = Σ_c α GA.
        Gemm.Multiply(false, false, rows, cols, rows, 1f, _g, rows, _alpha, cols, 0f, _ga, cols);
        var den = _den.AsSpan(0, cols);
        den.Clear();
        for (int c = 0; c < rows; c++) TensorPrimitives.FusedMultiplyAdd(Row(_alpha, c), Row(_ga, c), den, den);
        var attn = _attn.AsSpan(0, cols);
        TensorPrimitives.Max(den, 0f, attn); // G is PSD; guard against rounding below zero
        TensorPrimitives.Sqrt(attn, attn);

        // 6. R_q = num / max(‖q‖ ‖att‖, ε)  (the original cosine_similarity clamps the product of norms).
        var rel = _rel.AsSpan(0, cols);
        TensorPrimitives.Multiply(queryNorms, attn, den); // den now holds D = ‖q‖‖att‖
        TensorPrimitives.Max(den, eps, rel);
        TensorPrimitives.Divide(num, rel, rel);

        // 7. Pool each partner's segment.
        for (int p = 0; p < _partners; p++)
        {
            var seg = rel.Slice(segStart[p], segStart[p + 1] - segStart[p]);
            scores[p * scoreStride] = Pool(seg);
        }
    }

    private float Pool(ReadOnlySpan<float> r)
    {
        switch (_o.Aggregation)
        {
            case Aggregation.LogSumExp:
                // (1/λ2) log Σ exp(λ2 R), without max subtraction (the original; fine for λ2 ≤ 20 since |R| ≤ 1).
                float sum = 0f;
                foreach (float v in r) sum += MathF.Exp(_o.LambdaLse * v);
                return MathF.Log(sum) / _o.LambdaLse;
            case Aggregation.Mean: return TensorPrimitives.Sum(r) / r.Length;
            case Aggregation.Max: return TensorPrimitives.Max(r);
            default: return TensorPrimitives.Sum(r);
        }
    }

    /// <summary>
    /// Back-propagates the owner's scores (after <see cref="Forward"/> on the same inputs).
    /// <paramref name="dScores"/>[p * stride]: upstream gradient per partner. Writes dS (rows x cols, stride
    /// <paramref name="ldS"/>), adds the Gram path into <paramref name="dContext"/> (rows x d) and the
    /// query-norm path's coefficient d loss / d‖q‖ into <paramref name="dQueryNorms"/> (per column).
    /// </summary>
    public void Backward(ReadOnlySpan<float> s, int ldS, ReadOnlySpan<float> context, int d,
        ReadOnlySpan<int> segStart, ReadOnlySpan<float> queryNorms, ReadOnlySpan<float> dScores, int dScoreStride,
        Span<float> dS, Span<float> dContext, Span<float> dQueryNorms)
    {
        int rows = _rows, cols = _cols;
        float eps = CrossAttentionOptions.Eps;
        var rel = _rel.AsSpan(0, cols);
        var num = _num.AsSpan(0, cols);
        var attn = _attn.AsSpan(0, cols);

        // d score / d R per column.
        var dRel = _tmp.AsSpan(0, cols);
        for (int p = 0; p < _partners; p++)
        {
            int start = segStart[p], len = segStart[p + 1] - start;
            float g = dScores[p * dScoreStride];
            var seg = rel.Slice(start, len);
            var dseg = dRel.Slice(start, len);
            switch (_o.Aggregation)
            {
                case Aggregation.LogSumExp:
                    float sum = 0f;
                    for (int q = 0; q < len; q++) { dseg[q] = MathF.Exp(_o.LambdaLse * seg[q]); sum += dseg[q]; }
                    TensorPrimitives.Multiply(dseg, g / sum, dseg);
                    break;
                case Aggregation.Mean: dseg.Fill(g / len); break;
                case Aggregation.Sum: dseg.Fill(g); break;
                default:
                    dseg.Clear();
                    dseg[TensorPrimitives.IndexOfMax(seg)] = g;
                    break;
            }
        }

        // R = num / Dc with Dc = max(D, ε), D = ‖q‖‖att‖ (the clamp passes the gradient where D ≥ ε, as PyTorch's).
        // dnum = dR / Dc; dD = -dR num / Dc²; d‖q‖ = dD ‖att‖; d‖att‖ = dD ‖q‖; w = d‖att‖ / ‖att‖.
        var dnum = _colMax.AsSpan(0, cols); // reuse
        var w = _colSum.AsSpan(0, cols);    // reuse
        for (int q = 0; q < cols; q++)
        {
            float dD0 = queryNorms[q] * attn[q];
            float dc = dD0 >= eps ? dD0 : eps;
            float dn = dRel[q] / dc;
            float dD = dD0 >= eps ? -dRel[q] * num[q] / (dc * dc) : 0f;
            dnum[q] = dn;
            dQueryNorms[q] += dD * attn[q];
            w[q] = attn[q] > 0f ? dD * queryNorms[q] / attn[q] : 0f;
        }

        // dα = dnum S + w GA (from num = Σ α S and ‖att‖ = sqrt(αᵀGα)); dS gets dnum α directly.
        for (int c = 0; c < rows; c++)
        {
            var da = Row(_dAlpha, c);
            TensorPrimitives.Multiply(s.Slice(c * ldS, cols), dnum, da);
            TensorPrimitives.FusedMultiplyAdd(Row(_ga, c), w, da, da);
            TensorPrimitives.Multiply(Row(_alpha, c), dnum, dS.Slice(c * ldS, cols));
        }

        // dG = α diag(w/2) αᵀ; the Gram path adds (dG + dGᵀ) C = 2 dG C to the owner's context vectors.
        // The scaled copy of α goes into _ga (no longer needed).
        TensorPrimitives.Multiply(w, 0.5f, w);
        for (int c = 0; c < rows; c++) TensorPrimitives.Multiply(Row(_alpha, c), w, Row(_ga, c));
        Gemm.Multiply(false, true, rows, rows, cols, 1f, _ga, cols, _alpha, cols, 0f, _g, rows);
        Gemm.Multiply(false, false, rows, d, rows, 2f, _g, rows, context, d, 1f, dContext, d);

        // Softmax over rows: da = λ1 α (dα - Σ_c α dα), in place in _dAlpha.
        ContextSoftmax.Backward(_alpha, rows, cols, _o.LambdaSoftmax, _dAlpha, w);

        // Raw-feature normalisation backward, row by row, added to dS.
        for (int c = 0; c < rows; c++)
            RawFeatureNormalization.Backward(_o.RawFeatureNorm, s.Slice(c * ldS, cols), Row(_pre, c), Row(_a, c), segStart,
                _segNorm.AsSpan(c * _partners, _partners), Row(_dAlpha, c), dS.Slice(c * ldS, cols));
    }

    public void Dispose()
    {
        foreach (var b in new[] { _pre, _a, _alpha, _ga, _dAlpha, _segNorm, _g, _num, _attn, _den, _rel, _colMax, _colSum, _tmp })
            TensorPool.Return(b);
    }
}
