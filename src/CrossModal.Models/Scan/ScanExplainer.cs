using CrossModal.Models.Attention;

namespace CrossModal.Models.Scan;

/// <summary>
/// SCAN's attention for one image-caption pair, written out step by step as in the original func_attention and
/// xattn_score_t2i / xattn_score_i2t (not through the fused block kernels, so a test can hold the two against each
/// other): raw similarities S = regions · wordsᵀ, --raw_feature_norm of each context item across the query axis,
/// softmax over the context of λ1·a, attended vectors, cosine relevances, --agg_func.
/// </summary>
internal static class ScanExplainer
{
    /// <summary>
    /// Explains the score of encoded <paramref name="regions"/> [R x d] and <paramref name="words"/> [T x d]:
    /// the attention matrix is returned as [T x R] in both directions.
    /// </summary>
    public static ScoreExplanation Explain(ReadOnlySpan<float> regions, int r, ReadOnlySpan<float> words, int t, int d, CrossAttentionOptions options)
    {
        var s = new float[r * t];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < t; j++)
                s[i * t + j] = Dot(regions.Slice(i * d, d), words.Slice(j * d, d));

        // t2i: context = regions, queries = words. i2t: context = words, queries = regions.
        bool t2i = options.TextToImage;
        int contexts = t2i ? r : t, queries = t2i ? t : r;
        var a = new float[contexts * queries]; // a[c, q]
        for (int c = 0; c < contexts; c++)
        {
            var row = a.AsSpan(c * queries, queries);
            for (int q = 0; q < queries; q++) row[q] = t2i ? s[c * t + q] : s[q * t + c];
            Normalize(options.RawFeatureNorm, row);
        }
        // alpha[q, c] = softmax over c of λ1 a[c, q]
        var alpha = new float[queries * contexts];
        for (int q = 0; q < queries; q++)
        {
            float max = float.NegativeInfinity;
            for (int c = 0; c < contexts; c++) max = MathF.Max(max, options.LambdaSoftmax * a[c * queries + q]);
            float sum = 0;
            for (int c = 0; c < contexts; c++) sum += alpha[q * contexts + c] = MathF.Exp(options.LambdaSoftmax * a[c * queries + q] - max);
            for (int c = 0; c < contexts; c++) alpha[q * contexts + c] /= sum;
        }
        // Relevance of each query item with its attended context vector.
        var relevance = new float[queries];
        var attended = new float[d];
        for (int q = 0; q < queries; q++)
        {
            Array.Clear(attended);
            for (int c = 0; c < contexts; c++)
            {
                float w = alpha[q * contexts + c];
                var ctx = t2i ? regions.Slice(c * d, d) : words.Slice(c * d, d);
                for (int k = 0; k < d; k++) attended[k] += w * ctx[k];
            }
            var query = t2i ? words.Slice(q * d, d) : regions.Slice(q * d, d);
            float norms = MathF.Sqrt(Dot(query, query)) * MathF.Sqrt(Dot(attended, attended));
            relevance[q] = Dot(query, attended) / MathF.Max(norms, CrossAttentionOptions.Eps);
        }
        float score = Aggregate(relevance, options);

        var weights = new float[t * r]; // [T x R]
        for (int j = 0; j < t; j++)
            for (int i = 0; i < r; i++)
                weights[j * r + i] = t2i ? alpha[j * r + i] : alpha[i * t + j];
        string meaning = t2i
            ? "SCAN t2i: row w is word w's attention over the regions (softmax over regions of λ1 times the normalised similarity; each row sums to 1). " +
              "The word's relevance is the cosine of the word with its attended image vector; the score pools the relevances with --agg_func."
            : "SCAN i2t: the regions attend to the words, so entry (w, r) is how much region r's attention goes to word w (each region's weights over the words sum to 1; " +
              "a row is not normalised over the regions). The relevances are per region (cosine of the region with its attended sentence vector), pooled with --agg_func.";
        return new ScoreExplanation(ExplanationKind.WordRegionAttention, score, t, r, weights, relevance, meaning);
    }

    /// <summary>--raw_feature_norm of one context item's similarities across the queries.</summary>
    private static void Normalize(RawFeatureNorm norm, Span<float> row)
    {
        if (norm is RawFeatureNorm.ClippedL2Norm or RawFeatureNorm.Clipped)
            for (int i = 0; i < row.Length; i++) row[i] = row[i] >= 0 ? row[i] : AttentionStages.LeakySlope * row[i];
        switch (norm)
        {
            case RawFeatureNorm.ClippedL2Norm:
            case RawFeatureNorm.L2Norm:
                float n = MathF.Sqrt(Dot(row, row)) + AttentionStages.Eps;
                for (int i = 0; i < row.Length; i++) row[i] /= n;
                break;
            case RawFeatureNorm.Softmax:
                float max = float.NegativeInfinity, sum = 0;
                foreach (float v in row) max = MathF.Max(max, v);
                for (int i = 0; i < row.Length; i++) sum += row[i] = MathF.Exp(row[i] - max);
                for (int i = 0; i < row.Length; i++) row[i] /= sum;
                break;
        }
    }

    private static float Aggregate(float[] relevance, CrossAttentionOptions options)
    {
        switch (options.Aggregation)
        {
            case Aggregation.LogSumExp:
                double sum = 0;
                foreach (float v in relevance) sum += Math.Exp(options.LambdaLse * v);
                return (float)(Math.Log(sum) / options.LambdaLse);
            case Aggregation.Max: return relevance.Max();
            case Aggregation.Sum: return relevance.Sum();
            default: return relevance.Average();
        }
    }

    private static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += (double)x[i] * y[i];
        return (float)s;
    }
}
