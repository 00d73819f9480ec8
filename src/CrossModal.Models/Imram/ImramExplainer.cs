using System.Numerics.Tensors;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Models.Imram;

/// <summary>
/// IMRAM's attention for one image-caption pair: each direction the mode scores runs the K steps of
/// <see cref="IterativeAttention"/> (the scorer's own forward, one owner against one partner) and keeps the step
/// weights. Shown: the words' attention over the regions (text_IMRAM, full_IMRAM) or the regions' attention over the
/// words (image_IMRAM), averaged over the K steps (each step's cosine adds to the score with the same weight).
/// </summary>
internal static class ImramExplainer
{
    /// <summary>Explains the score of encoded <paramref name="regions"/> [R x d] and <paramref name="words"/> [T x d]; the weights are [T x R].</summary>
    public static ScoreExplanation Explain(ReadOnlySpan<float> regions, int r, ReadOnlySpan<float> words, int t, int d, ImramOptions options, ImramGates gates)
    {
        float score = 0;
        var shown = new float[t * r];
        bool showTextToImage = options.TextToImage;
        int k = options.IterationStep;
        foreach (bool textToImage in new[] { true, false })
        {
            if (textToImage ? !options.TextToImage : !options.ImageToText) continue;
            var context = textToImage ? regions : words;
            var query = textToImage ? words : regions;
            int rows = textToImage ? r : t, cols = textToImage ? t : r;
            var w = k > 1 ? (textToImage ? GateWeights.Of(gates.LinearT2I, gates.GateT2I) : GateWeights.Of(gates.LinearI2T, gates.GateI2T)) : null;
            var norms = new float[cols];
            for (int q = 0; q < cols; q++) norms[q] = TensorPrimitives.Norm(query.Slice(q * d, d));
            var qp0 = new float[w is null ? 1 : cols * 2 * d];
            if (w is not null) Gemm.Multiply(false, true, cols, 2 * d, d, 1f, query, d, w.Query, d, 0f, qp0, 2 * d);
            var s = new float[1];
            using var attention = new IterativeAttention(options, rows, cols, d, [0, cols]);
            attention.Forward(context, rows, query, norms, qp0, w, s, 1);
            score += s[0];
            if (textToImage != showTextToImage) continue;
            for (int step = 0; step < k; step++)
            {
                var a = attention.Attention(step); // [rows (context) x cols (query)], each column sums to 1
                for (int j = 0; j < t; j++)
                    for (int i = 0; i < r; i++)
                        shown[j * r + i] += (textToImage ? a[i * t + j] : a[j * r + i]) / k;
            }
        }
        string steps = k == 1 ? "its one attention step" : $"the mean of its {k} attention steps (the memory gate updates the queries between steps)";
        string meaning = showTextToImage
            ? $"IMRAM ({(options.ImageToText ? "full_IMRAM" : "text_IMRAM")}): row w is word w's attention over the regions, {steps}; each row sums to 1. " +
              "The score adds, per step, the mean cosine of each word with its attended image vector" +
              (options.ImageToText ? ", plus the same sum in the other direction (regions attending to words), whose weights are not shown." : ".")
            : $"IMRAM (image_IMRAM): the regions attend to the words, so entry (w, r) is how much region r's attention goes to word w, {steps} " +
              "(each region's weights over the words sum to 1). The score adds, per step, the mean cosine of each region with its attended sentence vector.";
        return new ScoreExplanation(ExplanationKind.WordRegionAttention, score, t, r, shown, null, meaning);
    }
}
