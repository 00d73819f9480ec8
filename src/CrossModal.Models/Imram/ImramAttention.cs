using System.Numerics.Tensors;
using CrossModal.Models.Attention;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;
using Tensor = CrossModal.Tensors.Tensor;

namespace CrossModal.Models.Imram;

/// <summary>
/// IMRAM's image-sentence scores for every image x caption pair of two blocks (the original's
/// xattn_score_Text_IMRAM + xattn_score_Image_IMRAM): per direction, each owner (t2i: an image; i2t: a caption) runs
/// <see cref="IterativeAttention"/> against all partners of the block, on both cores; full_IMRAM adds the two
/// directions' step sums. Scores are float32 throughout (the original computes each step in float32 and sums the
/// steps in float64; the fixtures' scores_f32 vs scores differ by ~1e-7). The backward recomputes each owner's
/// forward instead of keeping per-pair tensors, so memory is bounded by one owner's workspace per thread.
/// </summary>
public static class ImramAttention
{
    /// <summary>
    /// Differentiable scores [Bi, Bc] of images [Bi, R, d] (region embeddings) against captions [Bc, T, d] (word
    /// embeddings, the first lengths[c] rows of caption c are used); gradients reach the embeddings and the layers
    /// of <paramref name="gates"/> the mode uses.
    /// </summary>
    public static Tensor Scores(Tensor images, Tensor captions, int[] lengths, ImramOptions options, ImramGates gates)
    {
        var wordStart = AttentionStages.WordStarts("IMRAM", images, captions, lengths);
        int bi = images.Dim(0), r = images.Dim(1), d = images.Dim(2), bc = captions.Dim(0), t = captions.Dim(1);
        var words = new float[wordStart[bc] * d];
        AttentionStages.PackWords(captions.Data, t, d, wordStart, words);
        var regions = images.Data.ToArray();

        var scores = Tensor.Zeros(bi, bc);
        var block = new Block(options, bi, r, d, wordStart);
        foreach (var dir in block.Directions(gates)) dir.Forward(regions, words, scores.Data);
        bool record = Tape.Enabled && (images.RequiresGrad || captions.RequiresGrad || gates.RequiresGrad(options));
        if (!record) return scores;

        var lens = (int[])lengths.Clone();
        Tape.Record(scores, g =>
        {
            var dRegions = new float[bi * r * d];
            var dWords = new float[words.Length];
            var dScores = g.Data.ToArray();
            foreach (var dir in block.Directions(gates)) dir.Backward(regions, words, dScores, dRegions, dWords);
            if (images.RequiresGrad) images.AccumulateGrad(dRegions);
            if (captions.RequiresGrad)
            {
                var gc = captions.GradBuffer(out bool acc);
                if (!acc) gc.Clear();
                for (int c = 0; c < bc; c++)
                {
                    var dst = gc.Slice(c * t * d, lens[c] * d);
                    TensorPrimitives.Add(dst, dWords.AsSpan(wordStart[c] * d, lens[c] * d), dst);
                }
            }
        });
        return scores;
    }

    /// <summary>
    /// Evaluation: scores of <paramref name="imageCount"/> images (regions: imageCount x R x d) against captions packed
    /// word by word (words: Σ lengths x d) into output[i * ldo + c], without gradients.
    /// </summary>
    public static void ScoreBlock(ReadOnlySpan<float> regions, int imageCount, int regionsPerImage, ReadOnlySpan<float> words,
        ReadOnlySpan<int> lengths, int d, ImramOptions options, ImramGates gates, Span<float> output, int ldo)
    {
        var wordStart = new int[lengths.Length + 1];
        for (int c = 0; c < lengths.Length; c++) wordStart[c + 1] = wordStart[c] + lengths[c];
        if (words.Length != wordStart[^1] * d) throw new ArgumentException($"{words.Length} word floats for {wordStart[^1]} words of {d}.");
        if (regions.Length != imageCount * regionsPerImage * d) throw new ArgumentException($"{regions.Length} region floats for {imageCount} x {regionsPerImage} x {d}.");
        int n = lengths.Length;
        var scores = new float[imageCount * n];
        var block = new Block(options, imageCount, regionsPerImage, d, wordStart);
        var r = regions.ToArray();
        var w = words.ToArray();
        foreach (var dir in block.Directions(gates)) dir.Forward(r, w, scores);
        for (int i = 0; i < imageCount; i++) scores.AsSpan(i * n, n).CopyTo(output.Slice(i * ldo, n));
    }

    /// <summary>The shapes of one images x captions block.</summary>
    private sealed record Block(ImramOptions Options, int Bi, int R, int D, int[] WordStart)
    {
        public IEnumerable<Direction> Directions(ImramGates gates)
        {
            if (Options.TextToImage) yield return new Direction(this, true, Options.IterationStep > 1 ? GateWeights.Of(gates.LinearT2I, gates.GateT2I) : null);
            if (Options.ImageToText) yield return new Direction(this, false, Options.IterationStep > 1 ? GateWeights.Of(gates.LinearI2T, gates.GateI2T) : null);
        }
    }

    /// <summary>
    /// One direction over a block: t2i has owners = images (context = regions) and query columns = all words; i2t has
    /// owners = captions (context = words) and query columns = all regions.
    /// </summary>
    private sealed unsafe class Direction(Block b, bool textToImage, GateWeights? w)
    {
        private readonly int _owners = textToImage ? b.Bi : b.WordStart.Length - 1;
        private readonly int _bc = b.WordStart.Length - 1;
        private readonly int[] _segStart = textToImage ? b.WordStart : Enumerable.Range(0, b.Bi + 1).Select(i => i * b.R).ToArray();
        private readonly int[] _ownerStart = textToImage ? Enumerable.Range(0, b.Bi + 1).Select(i => i * b.R).ToArray() : b.WordStart;
        private int Cols => _segStart[^1];
        private int K => b.Options.IterationStep;

        private int MaxRows()
        {
            int max = 1;
            for (int k = 0; k < _owners; k++) max = Math.Max(max, _ownerStart[k + 1] - _ownerStart[k]);
            return max;
        }

        private int Qp0Length => K > 1 ? Cols * 2 * b.D : 0;

        private (float[] Norms, float[] Qp0) Shared(float[] query)
        {
            int cols = Cols, d = b.D;
            var norms = new float[cols];
            for (int q = 0; q < cols; q++) norms[q] = TensorPrimitives.Norm(query.AsSpan(q * d, d));
            // Pooled (cols x 2d: ~38 MB for i2t at batch 128); the caller returns it. Empty when K = 1 (no update).
            var qp0 = TensorPool.Rent(K > 1 ? cols * 2 * d : 1);
            if (K > 1) Gemm.Multiply(false, true, cols, 2 * d, d, 1f, query, d, w!.Query, d, 0f, qp0, 2 * d);
            return (norms, qp0);
        }

        /// <summary>Adds this direction's scores to scores (images x captions, row major).</summary>
        public void Forward(float[] regions, float[] words, Span<float> scores)
        {
            var context = textToImage ? regions : words;
            var query = textToImage ? words : regions;
            var (norms, qp0) = Shared(query);
            int maxRows = MaxRows(), cols = Cols, d = b.D, bc = _bc, nQp = Qp0Length;
            try
            {
            fixed (float* ps = scores)
            {
                nint sp = (nint)ps;
                int total = b.Bi * bc;
                Parallelism.For(_owners, 1, (start, end) =>
                {
                    using var att = new IterativeAttention(b.Options, maxRows, cols, d, _segStart);
                    var all = new Span<float>((float*)sp, total);
                    for (int k = start; k < end; k++)
                    {
                        int r0 = _ownerStart[k], rows = _ownerStart[k + 1] - r0;
                        var dst = textToImage ? all.Slice(k * bc) : all.Slice(k);
                        att.Forward(context.AsSpan(r0 * d, rows * d), rows, query, norms, qp0.AsSpan(0, nQp), w, dst, textToImage ? 1 : bc);
                    }
                });
            }
            }
            finally
            {
                TensorPool.Return(qp0);
            }
        }

        /// <summary>Adds this direction's gradients to dRegions, dWords and the gate layers' parameters.</summary>
        public void Backward(float[] regions, float[] words, float[] dScores, float[] dRegions, float[] dWords)
        {
            var context = textToImage ? regions : words;
            var query = textToImage ? words : regions;
            var dContext = textToImage ? dRegions : dWords;
            var dQuery = textToImage ? dWords : dRegions;
            var (norms, qp0) = Shared(query);
            int maxRows = MaxRows(), cols = Cols, d = b.D, bc = _bc, d2 = 2 * d;
            int chunks = Parallelism.ChunkCount(_owners, 1);
            // Per-chunk accumulators of what all owners share (pooled: tens of MB each at batch 128), summed in chunk
            // order (deterministic). Lengths: q0 grads cols x d, qp0 grads cols x 2d, W_q and W_c grads 2d x d, bias 2d.
            int nQ = cols * d, nQp = Qp0Length, nW = K > 1 ? d2 * d : 0, nB = K > 1 ? d2 : 0;
            var acc = new float[chunks][];
            int per = nQ + nQp + 2 * nW + nB;
            using var ownDContext = new PooledBuffer(context.Length);
            ownDContext.Span.Clear();
            var dctx = ownDContext.Array;
            try
            {
                Parallelism.ForChunks(_owners, 1, (chunk, start, end) =>
                {
                    var a = acc[chunk] = TensorPool.Rent(per);
                    a.AsSpan(0, per).Clear();
                    using var att = new IterativeAttention(b.Options, maxRows, cols, d, _segStart);
                    using var scratchBuf = new PooledBuffer(textToImage ? bc : b.Bi * bc);
                    var scratch = scratchBuf.Array;
                    for (int k = start; k < end; k++)
                    {
                        int r0 = _ownerStart[k], rows = _ownerStart[k + 1] - r0;
                        var ctx = context.AsSpan(r0 * d, rows * d);
                        int stride = textToImage ? 1 : bc;
                        att.Forward(ctx, rows, query, norms, qp0.AsSpan(0, nQp), w, textToImage ? scratch : scratch.AsSpan(k), stride);
                        att.Backward(ctx, query, norms, w, textToImage ? dScores.AsSpan(k * bc) : dScores.AsSpan(k), stride,
                            dctx.AsSpan(r0 * d, rows * d), a.AsSpan(0, nQ), a.AsSpan(nQ, nQp), a.AsSpan(nQ + nQp, nW),
                            a.AsSpan(nQ + nQp + nW, nW), a.AsSpan(nQ + nQp + 2 * nW, nB));
                    }
                });
                var total = acc[0].AsSpan(0, per);
                for (int c = 1; c < chunks; c++) TensorPrimitives.Add(total, acc[c].AsSpan(0, per), total);
                var dQ0 = total[..nQ];
                if (K > 1)
                {
                    var dQp0 = total.Slice(nQ, nQp);
                    var dWq = total.Slice(nQ + nQp, nW);
                    // qp0 = q0 W_qᵀ, shared by all owners: dW_q += dqp0ᵀ q0 and d q0 += dqp0 W_q, once for the block.
                    Gemm.Multiply(true, false, d2, d, cols, 1f, dQp0, d2, query, d, 1f, dWq, d);
                    Gemm.Multiply(false, false, cols, d, d2, 1f, dQp0, d2, w!.Query, d, 1f, dQ0, d);
                    w.AccumulateGradients(dWq, total.Slice(nQ + nQp + nW, nW), total.Slice(nQ + nQp + 2 * nW, nB));
                }
                TensorPrimitives.Add(dQuery, dQ0, dQuery);
                TensorPrimitives.Add(dContext, dctx.AsSpan(0, context.Length), dContext);
            }
            finally
            {
                foreach (var a in acc) if (a is not null) TensorPool.Return(a);
                TensorPool.Return(qp0);
            }
        }
    }
}
