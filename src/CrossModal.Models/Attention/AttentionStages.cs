using CrossModal.Tensors;

namespace CrossModal.Models.Attention;

/// <summary>
/// The cross attention of SCAN (func_attention), split into stages that SCAN, IMRAM and NAAF share, each with its
/// forward and backward over one "owner" block. Layout: S holds the raw similarities of the owner's context items
/// (rows; regions for t2i) with the query items of every partner (columns; the words of every caption of the block),
/// one column segment per partner, so every per-pair step of the original becomes a row or column operation over all
/// partners at once.
/// <list type="number">
/// <item><see cref="RawSimilarity"/>: S = C Qᵀ (one GEMM for a whole block of owners).</item>
/// <item><see cref="RawFeatureNormalization"/>: --raw_feature_norm across the query axis, within each segment of a row.</item>
/// <item><see cref="ContextSoftmax"/>: α = softmax over the context rows of λ·a, per column.</item>
/// <item><see cref="AttendedVectors"/>: att_q = Σ_c α[c, q] C_c, explicitly (IMRAM's memory gate and NAAF consume
/// them; SCAN scores without building them, from the Gram matrix of C).</item>
/// </list>
/// </summary>
public static class AttentionStages
{
    /// <summary>The original code's epsilon, in the L2 norms and in the cosine's clamped denominator.</summary>
    public const float Eps = 1e-8f;

    /// <summary>The negative slope of the clipped norms' LeakyReLU.</summary>
    public const float LeakySlope = 0.1f;

    /// <summary>
    /// Checks a block's images [Bi, R, d] and captions [Bc, T, d] with their valid lengths (<paramref name="model"/>
    /// names the caller in the error) and returns where each caption's words start among the packed word rows
    /// ([Bc + 1]; the last entry is the number of words).
    /// </summary>
    public static int[] WordStarts(string model, Tensor images, Tensor captions, int[] lengths)
    {
        if (images.Rank != 3 || captions.Rank != 3 || images.Dim(2) != captions.Dim(2))
            throw new ArgumentException($"{model} needs images [B, R, d] and captions [B, T, d]; got {Tensor.FormatShape(images.ShapeSpan)} and {Tensor.FormatShape(captions.ShapeSpan)}.");
        int bc = captions.Dim(0), t = captions.Dim(1);
        if (lengths.Length != bc) throw new ArgumentException($"{lengths.Length} caption lengths for {bc} captions.");
        var wordStart = new int[bc + 1];
        for (int c = 0; c < bc; c++)
        {
            if (lengths[c] < 1 || lengths[c] > t) throw new ArgumentException($"Caption length {lengths[c]} outside 1..{t}.");
            wordStart[c + 1] = wordStart[c] + lengths[c];
        }
        return wordStart;
    }

    /// <summary>
    /// Copies the valid words of captions [Bc, <paramref name="t"/>, <paramref name="d"/>] into consecutive rows of
    /// <paramref name="words"/>, caption c from row wordStart[c] (<see cref="WordStarts"/>).
    /// </summary>
    public static void PackWords(ReadOnlySpan<float> captions, int t, int d, ReadOnlySpan<int> wordStart, Span<float> words)
    {
        for (int c = 0; c + 1 < wordStart.Length; c++)
            captions.Slice(c * t * d, (wordStart[c + 1] - wordStart[c]) * d).CopyTo(words[(wordStart[c] * d)..]);
    }
}
