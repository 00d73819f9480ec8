using System.Numerics.Tensors;
using CrossModal.Models.Attention;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;
using Tensor = CrossModal.Tensors.Tensor;

namespace CrossModal.Models.Naaf;

/// <summary>
/// NAAF's image-sentence scores (CrossmodalGroup/NAAF model.xattn_score for training, xattn_score_test for
/// evaluation) for every image x caption pair of two blocks: one GEMM gives the raw similarities of all regions with
/// all words, then <see cref="NaafBlock"/> computes each image's terms against all words at once. Score =
/// mean over the caption's words (markers included) of negative + positive-feature + relevance terms.
/// <list type="bullet">
/// <item>Training (<see cref="Scores(Tensor, Tensor, int[], float, ReadOnlySpan{float})"/>, and the internal
/// overload that runs <see cref="MismatchMining"/>): caption c's threshold θ_c; negative term m where m &lt; 0.</item>
/// <item>Test (<see cref="ScoreBlock"/>): one threshold (thres_safe) and the intra-sentence smoothed mask: the word's
/// own m where Σ_k softmax_k(5 w_j·w_k) m_k &lt; 0.</item>
/// </list>
/// The backward recomputes the per-image intermediates from S instead of storing per-pair tensors.
/// </summary>
public static unsafe class NaafAttention
{
    /// <summary>The temperature of the test scorer's intra-sentence smoothing (hard-coded in the original).</summary>
    public const float IntraTemperature = 5f;

    /// <summary>
    /// Differentiable training scores [Bi, Bc] of images [Bi, R, d] against captions [Bc, T, d] (the first
    /// lengths[c] rows of caption c), caption c scored with threshold thresholds[c] (no learning: the scoring part
    /// of xattn_score alone).
    /// </summary>
    public static Tensor Scores(Tensor images, Tensor captions, int[] lengths, float lambda, ReadOnlySpan<float> thresholds)
    {
        if (thresholds.Length != lengths.Length) throw new ArgumentException($"{thresholds.Length} thresholds for {lengths.Length} captions.");
        return Scores(images, captions, lengths, lambda, thresholds.ToArray(), null);
    }

    /// <summary>
    /// Differentiable training scores with the original's threshold learning running caption by caption inside the
    /// forward pass (<see cref="MismatchMining"/>): updates <paramref name="state"/> as xattn_score updates opt;
    /// <paramref name="trace"/>, if given, records what happened.
    /// </summary>
    public static Tensor ScoresWithLearning(Tensor images, Tensor captions, int[] lengths, float lambda, ThresholdState state, double alpha, MiningTrace? trace = null) =>
        Scores(images, captions, lengths, lambda, null, new MismatchMining(state, alpha, trace));

    private static Tensor Scores(Tensor images, Tensor captions, int[] lengths, float lambda, float[]? fixedThresholds, MismatchMining? mining)
    {
        var segStart = AttentionStages.WordStarts("NAAF", images, captions, lengths);
        int bi = images.Dim(0), r = images.Dim(1), d = images.Dim(2), bc = captions.Dim(0), t = captions.Dim(1);
        int w = segStart[bc];
        bool record = Tape.Needs(images, captions);
        var words = record ? TensorScope.Allocate(w * d, clear: false) : TensorPool.Rent(w * d);
        AttentionStages.PackWords(captions.Data, t, d, segStart, words);
        var s = record ? TensorScope.Allocate(bi * r * w, clear: false) : TensorPool.Rent(bi * r * w);
        RawSimilarity.Forward(images.Data, bi * r, words.AsSpan(0, w * d), w, d, s.AsSpan(0, bi * r * w));

        var theta = new float[w];
        var scores = Tensor.Empty(bi, bc);
        using (var rel = new PooledBuffer(bi * w))
        using (var rawMax = new PooledBuffer(bi * w))
        using (var f = new PooledBuffer(bi * w))
        using (var gram = new PooledBuffer(bi * r * r))
        {
            // The θ-free terms and the Gram matrices, image by image on both cores.
            // The forward terms by the fused kernel (NaafColumnTerms); the backward recomputes them with NaafBlock.
            float[] relA = rel.Array, rawA = rawMax.Array, gramA = gram.Array;
            Parallelism.For(bi, 1, (start, end) =>
            {
                for (int k = start; k < end; k++) Gram(images.Data.Slice(k * r * d, r * d), r, d, gramA.AsSpan(k * r * r, r * r));
            });

            if (mining is null)
            {
                for (int c = 0; c < bc; c++) theta.AsSpan(segStart[c], lengths[c]).Fill(fixedThresholds![c]);
                float[] fA = f.Array;
                Parallelism.For(bi, 1, (start, end) =>
                {
                    using var terms = new NaafColumnTerms(r, segStart);
                    for (int k = start; k < end; k++)
                        terms.Compute(s.AsSpan(k * r * w, r * w), r, w, gramA.AsSpan(k * r * r, r * r), lambda, theta, relA.AsSpan(k * w, w), rawA.AsSpan(k * w, w), fA.AsSpan(k * w, w));
                });
                for (int k = 0; k < bi; k++)
                    for (int c = 0; c < bc; c++)
                        scores.Data[k * bc + c] = TrainingScore(rel.Span, rawMax.Span, f.Span, theta, k * w, segStart[c], lengths[c]);
            }
            else Mine(s, r, w, bi, bc, segStart, lengths, lambda, rel.Array, rawMax.Array, f.Array, gram.Array, theta, scores.Data, mining);
        }

        if (!record)
        {
            TensorPool.Return(s);
            TensorPool.Return(words);
            return scores;
        }

        var lens = (int[])lengths.Clone();
        Tape.Record(scores, g => Backward(images, captions, lens, segStart, words, s, theta, lambda, g.Data, r, d, t));
        return scores;
    }

    /// <summary>
    /// The original's caption-by-caption walk: caption c is scored against every image with the threshold the
    /// previous captions left, then the learning rule sees its scores (and may move the threshold).
    /// </summary>
    private static void Mine(float[] s, int r, int w, int bi, int bc, int[] segStart, int[] lengths, float lambda,
        float[] rel, float[] rawMax, float[] f, float[] gram, float[] theta, Span<float> scores, MismatchMining mining)
    {
        var column = new float[bi];
        // One fused workspace per chunk for the whole walk (caption c's columns are one tile of it).
        var work = new NaafColumnTerms[Parallelism.ChunkCount(bi, 8)];
        for (int i = 0; i < work.Length; i++) work[i] = new NaafColumnTerms(r, segStart);
        try
        {
            for (int c = 0; c < bc; c++)
            {
                int q0 = segStart[c], n = lengths[c];
                theta.AsSpan(q0, n).Fill(mining.Threshold);
                Parallelism.ForChunks(bi, 8, (chunk, start, end) =>
                {
                    var terms = work[chunk];
                    for (int k = start; k < end; k++)
                    {
                        terms.ComputeSegment(c, s.AsSpan(k * r * w, r * w), r, w, gram.AsSpan(k * r * r, r * r), lambda, theta, rel.AsSpan(k * w, w), rawMax.AsSpan(k * w, w), f.AsSpan(k * w, w));
                        column[k] = TrainingScore(rel, rawMax, f, theta, k * w, q0, n);
                    }
                });
                for (int k = 0; k < bi; k++) scores[k * bc + c] = column[k];
                mining.AfterCaption(c, column, rawMax, w, q0, n);
            }
        }
        finally
        {
            foreach (var terms in work) terms.Dispose();
        }
    }

    /// <summary>Mean over the caption's words of (m where m &lt; 0) + f + rel, m = m⁰ − θ.</summary>
    private static float TrainingScore(ReadOnlySpan<float> rel, ReadOnlySpan<float> rawMax, ReadOnlySpan<float> f, ReadOnlySpan<float> theta, int row, int q0, int n)
    {
        float sum = 0f;
        for (int q = q0; q < q0 + n; q++)
        {
            float m = rawMax[row + q] - theta[q];
            sum += (m < 0f ? m : 0f) + f[row + q] + rel[row + q];
        }
        return sum / n;
    }

    private static void Backward(Tensor images, Tensor captions, int[] lengths, int[] segStart, float[] words, float[] s, float[] theta,
        float lambda, ReadOnlySpan<float> dScores, int r, int d, int t)
    {
        int bi = images.Dim(0), bc = lengths.Length, w = segStart[bc];
        using var dsBuf = new PooledBuffer(bi * r * w);
        using var dCtx = new PooledBuffer(bi * r * d);
        using var dTot = new PooledBuffer(bi * w);
        float[] dsA = dsBuf.Array, dCtxA = dCtx.Array, dTotA = dTot.Array;
        // d score / d total_q = dScore / n for every word of the caption.
        for (int k = 0; k < bi; k++)
            for (int c = 0; c < bc; c++)
                dTotA.AsSpan(k * w + segStart[c], lengths[c]).Fill(dScores[k * bc + c] / lengths[c]);
        dCtx.Span.Clear();
        Parallelism.For(bi, 1, (start, end) =>
        {
            using var block = new NaafBlock(r, w, bc);
            var rel = new float[w];
            var rawMax = new float[w];
            var argMax = new int[w];
            var f = new float[w];
            var gram = new float[r * r];
            for (int k = start; k < end; k++)
            {
                var sk = s.AsSpan(k * r * w, r * w);
                var ctx = images.Data.Slice(k * r * d, r * d);
                Gemm.Multiply(false, true, r, r, d, 1f, ctx, d, ctx, d, 0f, gram, r);
                block.Shared(sk, r, segStart, lambda, rel, rawMax, argMax);
                block.Positive(sk, r, 0, w, theta, gram, lambda, f);
                block.Backward(sk, r, segStart, theta, rawMax, argMax, ctx, d, lambda, dTotA.AsSpan(k * w, w), dsA.AsSpan(k * r * w, r * w), dCtxA.AsSpan(k * r * d, r * d));
            }
        });
        // S = regions wordsᵀ: d regions = dS words + the Gram path; d words = dSᵀ regions.
        using var dWords = new PooledBuffer(w * d);
        RawSimilarity.Backward(images.Data, bi * r, words.AsSpan(0, w * d), w, d, dsBuf.Span, dCtx.Span, accumulateContext: true, dWords.Span, accumulateQuery: false);
        if (images.RequiresGrad) images.AccumulateGrad(dCtx.Span);
        if (captions.RequiresGrad)
        {
            var gc = captions.GradBuffer(out bool acc);
            if (!acc) gc.Clear();
            for (int c = 0; c < bc; c++)
            {
                var dst = gc.Slice(c * t * d, lengths[c] * d);
                TensorPrimitives.Add(dst, dWords.Span.Slice(segStart[c] * d, lengths[c] * d), dst);
            }
        }
    }

    /// <summary>
    /// G = C Cᵀ of one image's regions (rows x d): blocks of 4 x 2 dot products share their loads (8 accumulators,
    /// 6 loads per step), the upper triangle computed and mirrored. A GEMM call (packing) and one dot product per
    /// entry (two loads per multiply-add) were both about 10x slower at 36 x 36 x 1024 (measured).
    /// </summary>
    internal static void Gram(ReadOnlySpan<float> context, int rows, int d, Span<float> gram)
    {
        int lanes = System.Numerics.Vector<float>.Count, dv = d / lanes * lanes;
        ref float c = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(context);
        int a = 0;
        for (; a + 4 <= rows; a += 4)
        {
            int b = a;
            for (; b + 2 <= rows; b += 2)
            {
                System.Numerics.Vector<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
                for (int k = 0; k < dv; k += lanes)
                {
                    var x0 = System.Numerics.Vector.LoadUnsafe(ref c, (nuint)(a * d + k));
                    var x1 = System.Numerics.Vector.LoadUnsafe(ref c, (nuint)((a + 1) * d + k));
                    var x2 = System.Numerics.Vector.LoadUnsafe(ref c, (nuint)((a + 2) * d + k));
                    var x3 = System.Numerics.Vector.LoadUnsafe(ref c, (nuint)((a + 3) * d + k));
                    var y0 = System.Numerics.Vector.LoadUnsafe(ref c, (nuint)(b * d + k));
                    var y1 = System.Numerics.Vector.LoadUnsafe(ref c, (nuint)((b + 1) * d + k));
                    s00 = System.Numerics.Vector.FusedMultiplyAdd(x0, y0, s00);
                    s01 = System.Numerics.Vector.FusedMultiplyAdd(x0, y1, s01);
                    s10 = System.Numerics.Vector.FusedMultiplyAdd(x1, y0, s10);
                    s11 = System.Numerics.Vector.FusedMultiplyAdd(x1, y1, s11);
                    s20 = System.Numerics.Vector.FusedMultiplyAdd(x2, y0, s20);
                    s21 = System.Numerics.Vector.FusedMultiplyAdd(x2, y1, s21);
                    s30 = System.Numerics.Vector.FusedMultiplyAdd(x3, y0, s30);
                    s31 = System.Numerics.Vector.FusedMultiplyAdd(x3, y1, s31);
                }
                Put(context, d, dv, gram, rows, a, b, System.Numerics.Vector.Sum(s00));
                Put(context, d, dv, gram, rows, a, b + 1, System.Numerics.Vector.Sum(s01));
                Put(context, d, dv, gram, rows, a + 1, b, System.Numerics.Vector.Sum(s10));
                Put(context, d, dv, gram, rows, a + 1, b + 1, System.Numerics.Vector.Sum(s11));
                Put(context, d, dv, gram, rows, a + 2, b, System.Numerics.Vector.Sum(s20));
                Put(context, d, dv, gram, rows, a + 2, b + 1, System.Numerics.Vector.Sum(s21));
                Put(context, d, dv, gram, rows, a + 3, b, System.Numerics.Vector.Sum(s30));
                Put(context, d, dv, gram, rows, a + 3, b + 1, System.Numerics.Vector.Sum(s31));
            }
            for (; b < rows; b++)
                for (int i = a; i < a + 4; i++) Put(context, d, 0, gram, rows, i, b, 0f);
        }
        for (; a < rows; a++)
            for (int b = a; b < rows; b++) Put(context, d, 0, gram, rows, a, b, 0f);
    }

    /// <summary>Stores G[i, j] = G[j, i] = partial + the tail of the dot product from column <paramref name="from"/>.</summary>
    private static void Put(ReadOnlySpan<float> context, int d, int from, Span<float> gram, int rows, int i, int j, float partial)
    {
        if (from < d) partial += TensorPrimitives.Dot(context.Slice(i * d + from, d - from), context.Slice(j * d + from, d - from));
        gram[i * rows + j] = partial;
        gram[j * rows + i] = partial;
    }

    /// <summary>
    /// The test scorer (xattn_score_test): scores of <paramref name="imageCount"/> images (regions: imageCount x R x d,
    /// contiguous) against captions packed word by word (words: Σ lengths x d) with threshold
    /// <paramref name="thresSafe"/> and the intra-sentence smoothed negative mask, into output[i * ldo + c].
    /// </summary>
    public static void ScoreBlock(ReadOnlySpan<float> regions, int imageCount, int regionsPerImage, ReadOnlySpan<float> words,
        ReadOnlySpan<int> lengths, int d, float lambda, float thresSafe, Span<float> output, int ldo)
    {
        int bc = lengths.Length, r = regionsPerImage;
        var segStart = new int[bc + 1];
        var intraStart = new int[bc + 1];
        for (int c = 0; c < bc; c++)
        {
            if (lengths[c] < 1) throw new ArgumentException($"Caption length {lengths[c]} must be at least 1.");
            segStart[c + 1] = segStart[c] + lengths[c];
            intraStart[c + 1] = intraStart[c] + lengths[c] * lengths[c];
        }
        int w = segStart[bc];
        if (words.Length != w * d) throw new ArgumentException($"{words.Length} word floats for {w} words of {d}.");
        if (regions.Length != imageCount * r * d) throw new ArgumentException($"{regions.Length} region floats for {imageCount} x {r} x {d}.");
        using var sBuf = new PooledBuffer(imageCount * r * w);
        using var intra = new PooledBuffer(Math.Max(1, intraStart[bc]));
        using var scores = new PooledBuffer(imageCount * bc);
        RawSimilarity.Forward(regions, imageCount * r, words, w, d, sBuf.Span);
        // intra_c = row softmax of 5 W_c W_cᵀ (depends on the caption only).
        for (int c = 0; c < bc; c++)
        {
            int n = lengths[c];
            var wc = words.Slice(segStart[c] * d, n * d);
            var ic = intra.Span.Slice(intraStart[c], n * n);
            Gemm.Multiply(false, true, n, n, d, IntraTemperature, wc, d, wc, d, 0f, ic, n);
            for (int j = 0; j < n; j++) TensorPrimitives.SoftMax(ic.Slice(j * n, n), ic.Slice(j * n, n));
        }
        float[] sA = sBuf.Array, intraA = intra.Array, outA = scores.Array;
        // The workers read the regions through a pinned pointer (a span cannot enter the lambda): copying them, as
        // this did first, moved 19 MB per 128-image shard for the Gram matrices alone.
        fixed (float* regionPtr = regions)
        {
            nint regionBase = (nint)regionPtr;
            Parallelism.For(imageCount, 1, (start, end) =>
            {
                using var terms = new NaafColumnTerms(r, segStart);
                var rel = new float[w];
                var rawMax = new float[w];
                var f = new float[w];
                var gram = new float[r * r];
                var theta = new float[w];
                var m = new float[w];
                theta.AsSpan().Fill(thresSafe);
                for (int k = start; k < end; k++)
                {
                    var sk = sA.AsSpan(k * r * w, r * w);
                    var ctx = new ReadOnlySpan<float>((float*)regionBase + (long)k * r * d, r * d);
                    Gram(ctx, r, d, gram);
                    terms.Compute(sk, r, w, gram, lambda, theta, rel, rawMax, f);
                    TensorPrimitives.Subtract(rawMax, thresSafe, m);
                    for (int c = 0; c < bc; c++)
                    {
                        int q0 = segStart[c], n = segStart[c + 1] - q0;
                        var ic = intraA.AsSpan(intraStart[c], n * n);
                        var mc = m.AsSpan(q0, n);
                        float sum = 0f;
                        for (int j = 0; j < n; j++)
                        {
                            // A caption's n is small: an inline loop beats a call per word.
                            var row = ic.Slice(j * n, n);
                            float smoothed = 0f;
                            for (int l = 0; l < row.Length; l++) smoothed += row[l] * mc[l];
                            sum += (smoothed < 0f ? mc[j] : 0f) + f[q0 + j] + rel[q0 + j];
                        }
                        outA[k * bc + c] = sum / n;
                    }
                }
            });
        }
        for (int i = 0; i < imageCount; i++) scores.Span.Slice(i * bc, bc).CopyTo(output.Slice(i * ldo, bc));
    }
}
