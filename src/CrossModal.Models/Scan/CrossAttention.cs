using System.Numerics.Tensors;
using CrossModal.Models.Attention;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;
using Tensor = CrossModal.Tensors.Tensor;

namespace CrossModal.Models.Scan;

/// <summary>
/// SCAN's image-sentence scores (xattn_score_t2i / xattn_score_i2t of the original) for every image x caption
/// pair of two blocks, fused: one GEMM gives the raw similarities of all regions with all words of the block,
/// then <see cref="AttentionBlock"/> runs the attention of each owner (image for t2i, caption for i2t) against all
/// its partners with vectorised row/column operations, on both cores. The backward recomputes the per-owner
/// intermediates instead of storing per-pair tensors, so memory is bounded by the block's similarity matrix.
/// </summary>
public static class CrossAttention
{
    /// <summary>
    /// Differentiable scores [Bi, Bc] of images [Bi, R, d] (region embeddings) against captions [Bc, T, d]
    /// (word embeddings, only the first lengths[c] rows of caption c are used).
    /// </summary>
    public static Tensor Scores(Tensor images, Tensor captions, int[] lengths, CrossAttentionOptions options)
    {
        var wordStart = AttentionStages.WordStarts("Cross attention", images, captions, lengths);
        int bi = images.Dim(0), r = images.Dim(1), d = images.Dim(2), bc = captions.Dim(0), t = captions.Dim(1);
        int totalWords = wordStart[bc];
        bool record = Tape.Needs(images, captions);
        // With a backward to come, the packed words and the raw similarities S live until the step's scope ends
        // (the backward reuses S instead of recomputing its GEMM); without one they are scratch.
        var words = record ? TensorScope.Allocate(totalWords * d, clear: false) : TensorPool.Rent(totalWords * d);
        AttentionStages.PackWords(captions.Data, t, d, wordStart, words);

        var scores = Tensor.Empty(bi, bc);
        var plan = new Plan(options, bi, r, d, wordStart);
        var s = record ? TensorScope.Allocate(plan.Rows * plan.Cols, clear: false) : TensorPool.Rent(plan.Rows * plan.Cols);
        plan.Forward(images.Data, words.AsSpan(0, totalWords * d), s.AsSpan(0, plan.Rows * plan.Cols), scores.Data);
        if (!record)
        {
            TensorPool.Return(s);
            TensorPool.Return(words);
            return scores;
        }

        var lens = (int[])lengths.Clone();
        Tape.Record(scores, g =>
        {
            using var dRegions = new PooledBuffer(bi * r * d);
            using var dWords = new PooledBuffer(totalWords * d);
            plan.Backward(images.Data, words.AsSpan(0, totalWords * d), s.AsSpan(0, plan.Rows * plan.Cols), g.Data, dRegions.Span, dWords.Span);
            if (images.RequiresGrad) images.AccumulateGrad(dRegions.Span);
            if (captions.RequiresGrad)
            {
                var gc = captions.GradBuffer(out bool acc);
                if (!acc) gc.Clear();
                for (int c = 0; c < bc; c++)
                {
                    var dst = gc.Slice(c * t * d, lens[c] * d);
                    TensorPrimitives.Add(dst, dWords.Span.Slice(wordStart[c] * d, lens[c] * d), dst);
                }
            }
        });
        return scores;
    }

    /// <summary>
    /// Evaluation: scores of <paramref name="imageCount"/> images (regions: imageCount x R x d, contiguous) against
    /// captions packed word by word (words: Σ lengths x d) into output[i * ldo + c], without gradients.
    /// </summary>
    public static void ScoreBlock(ReadOnlySpan<float> regions, int imageCount, int regionsPerImage, ReadOnlySpan<float> words,
        ReadOnlySpan<int> lengths, int d, CrossAttentionOptions options, Span<float> output, int ldo)
    {
        var wordStart = new int[lengths.Length + 1];
        for (int c = 0; c < lengths.Length; c++) wordStart[c + 1] = wordStart[c] + lengths[c];
        if (words.Length != wordStart[^1] * d) throw new ArgumentException($"{words.Length} word floats for {wordStart[^1]} words of {d}.");
        if (regions.Length != imageCount * regionsPerImage * d) throw new ArgumentException($"{regions.Length} region floats for {imageCount} x {regionsPerImage} x {d}.");
        var plan = new Plan(options, imageCount, regionsPerImage, d, wordStart);
        using var sBuf = new PooledBuffer(plan.Rows * plan.Cols);
        using var scores = new PooledBuffer(imageCount * lengths.Length);
        plan.Forward(regions, words, sBuf.Span, scores.Span);
        int n = lengths.Length;
        for (int i = 0; i < imageCount; i++) scores.Span.Slice(i * n, n).CopyTo(output.Slice(i * ldo, n));
    }

    /// <summary>
    /// The shape of one block in the orientation of the direction: t2i has owners = images (rows = regions,
    /// columns = all words); i2t has owners = captions (rows = words, columns = all regions).
    /// </summary>
    private sealed unsafe class Plan
    {
        private readonly CrossAttentionOptions _o;
        private readonly int _bi, _r, _d, _bc;
        private readonly int[] _wordStart;
        private readonly int[] _ownerRowStart;  // owner k's rows in S
        private readonly int[] _segStart;       // partner p's columns in S
        private readonly int _maxOwnerRows;

        public Plan(CrossAttentionOptions o, int bi, int r, int d, int[] wordStart)
        {
            _o = o;
            _bi = bi;
            _r = r;
            _d = d;
            _bc = wordStart.Length - 1;
            _wordStart = wordStart;
            if (o.TextToImage)
            {
                _ownerRowStart = Enumerable.Range(0, bi + 1).Select(i => i * r).ToArray();
                _segStart = wordStart;
                _maxOwnerRows = r;
            }
            else
            {
                _ownerRowStart = wordStart;
                _segStart = Enumerable.Range(0, bi + 1).Select(i => i * r).ToArray();
                int max = 1;
                for (int c = 0; c < _bc; c++) max = Math.Max(max, wordStart[c + 1] - wordStart[c]);
                _maxOwnerRows = max;
            }
        }

        public int Owners => _o.TextToImage ? _bi : _bc;
        public int Partners => _o.TextToImage ? _bc : _bi;
        public int Rows => _o.TextToImage ? _bi * _r : _wordStart[^1];
        public int Cols => _o.TextToImage ? _wordStart[^1] : _bi * _r;

        /// <summary>S = context x queryᵀ: t2i regions x words, i2t words x regions (one GEMM on both cores).</summary>
        private void RawSimilarities(ReadOnlySpan<float> regions, ReadOnlySpan<float> words, Span<float> s) =>
            RawSimilarity.Forward(_o.TextToImage ? regions : words, Rows, _o.TextToImage ? words : regions, Cols, _d, s);

        private float[] QueryNorms(ReadOnlySpan<float> regions, ReadOnlySpan<float> words)
        {
            var q = _o.TextToImage ? words : regions;
            var norms = new float[Cols];
            for (int i = 0; i < norms.Length; i++) norms[i] = TensorPrimitives.Norm(q.Slice(i * _d, _d));
            return norms;
        }

        /// <summary>Scores into scores[i * Bc + c] (images x captions, row major).</summary>
        public void Forward(ReadOnlySpan<float> regions, ReadOnlySpan<float> words, Span<float> s, Span<float> scores)
        {
            RawSimilarities(regions, words, s);
            var norms = QueryNorms(regions, words);
            fixed (float* ps = s, pr = regions, pw = words, pscores = scores)
            {
                nint sp = (nint)ps, rp = (nint)pr, wp = (nint)pw, scp = (nint)pscores;
                int cols = Cols, ownerCount = Owners;
                Parallelism.For(ownerCount, 1, (start, end) =>
                {
                    using var block = new AttentionBlock(_o, _maxOwnerRows, cols, Partners);
                    var sAll = new ReadOnlySpan<float>((float*)sp, Rows * cols);
                    var ctxAll = new ReadOnlySpan<float>(_o.TextToImage ? (float*)rp : (float*)wp, Rows * _d);
                    var outAll = new Span<float>((float*)scp, _bi * _bc);
                    for (int k = start; k < end; k++)
                    {
                        int r0 = _ownerRowStart[k], rows = _ownerRowStart[k + 1] - r0;
                        // t2i: owner = image k, its scores are row k; i2t: owner = caption k, column k.
                        var dst = _o.TextToImage ? outAll.Slice(k * _bc) : outAll.Slice(k);
                        int stride = _o.TextToImage ? 1 : _bc;
                        block.Forward(sAll.Slice(r0 * cols), cols, rows, ctxAll.Slice(r0 * _d, rows * _d), _d, _segStart, norms, dst, stride);
                    }
                });
            }
        }

        /// <summary>
        /// Gradients of the scores w.r.t. the packed regions (bi*r x d) and words (Σ lengths x d), given the forward's
        /// raw similarities S and dScores (images x captions). Recomputes the per-owner intermediates from S.
        /// </summary>
        public void Backward(ReadOnlySpan<float> regions, ReadOnlySpan<float> words, ReadOnlySpan<float> s, ReadOnlySpan<float> dScores,
            Span<float> dRegions, Span<float> dWords)
        {
            int rows = Rows, cols = Cols;
            using var dsBuf = new PooledBuffer(rows * cols);
            using var dCtx = new PooledBuffer(rows * _d);
            var norms = QueryNorms(regions, words);
            dCtx.Span.Clear();
            int chunks = Parallelism.ChunkCount(Owners, 1);
            var dNormParts = new float[chunks][];
            for (int i = 0; i < chunks; i++) dNormParts[i] = new float[cols];
            using var dummy = new PooledBuffer(Math.Max(1, _bi * _bc));
            fixed (float* ps = s, pds = dsBuf.Span, pr = regions, pw = words, pdc = dCtx.Span, pg = dScores, pdummy = dummy.Span)
            {
                nint sp = (nint)ps, dsp = (nint)pds, rp = (nint)pr, wp = (nint)pw, dcp = (nint)pdc, gp = (nint)pg, dmp = (nint)pdummy;
                int ownerCount = Owners;
                Parallelism.ForChunks(ownerCount, 1, (chunk, start, end) =>
                {
                    using var block = new AttentionBlock(_o, _maxOwnerRows, cols, Partners);
                    var sAll = new ReadOnlySpan<float>((float*)sp, rows * cols);
                    var dsAll = new Span<float>((float*)dsp, rows * cols);
                    var ctxAll = new ReadOnlySpan<float>(_o.TextToImage ? (float*)rp : (float*)wp, rows * _d);
                    var dCtxAll = new Span<float>((float*)dcp, rows * _d);
                    var gAll = new ReadOnlySpan<float>((float*)gp, _bi * _bc);
                    var scratch = new Span<float>((float*)dmp, _bi * _bc);
                    for (int k = start; k < end; k++)
                    {
                        int r0 = _ownerRowStart[k], n = _ownerRowStart[k + 1] - r0;
                        int stride = _o.TextToImage ? 1 : _bc;
                        var sk = sAll.Slice(r0 * cols);
                        var ctx = ctxAll.Slice(r0 * _d, n * _d);
                        block.Forward(sk, cols, n, ctx, _d, _segStart, norms, _o.TextToImage ? scratch.Slice(k * _bc) : scratch.Slice(k), stride);
                        block.Backward(sk, cols, ctx, _d, _segStart, norms,
                            _o.TextToImage ? gAll.Slice(k * _bc) : gAll.Slice(k), stride,
                            dsAll.Slice(r0 * cols), dCtxAll.Slice(r0 * _d, n * _d), dNormParts[chunk]);
                    }
                });
            }
            // Sum the per-chunk query-norm coefficients in chunk order (deterministic).
            var dNorm = dNormParts[0];
            for (int i = 1; i < chunks; i++) TensorPrimitives.Add(dNorm, dNormParts[i], dNorm);

            // S = context queryᵀ: d context = dS query + Gram path; d query = dSᵀ context + norm path.
            var context = _o.TextToImage ? regions : words;
            var query = _o.TextToImage ? words : regions;
            var dContext = _o.TextToImage ? dRegions : dWords;
            var dQuery = _o.TextToImage ? dWords : dRegions;
            dCtx.Span.CopyTo(dContext);
            RawSimilarity.Backward(context, rows, query, cols, _d, dsBuf.Span, dContext, accumulateContext: true, dQuery, accumulateQuery: false);
            // ‖q‖ path: d q += (d loss / d‖q‖) q / ‖q‖.
            for (int q = 0; q < cols; q++)
            {
                if (dNorm[q] == 0f || norms[q] == 0f) continue;
                TensorPrimitives.MultiplyAdd(query.Slice(q * _d, _d), dNorm[q] / norms[q], dQuery.Slice(q * _d, _d), dQuery.Slice(q * _d, _d));
            }
        }
    }
}
