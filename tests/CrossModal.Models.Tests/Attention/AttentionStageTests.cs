using CrossModal.Models.Attention;
using CrossModal.Models.Scan;
using CrossModal.Tensors;

namespace CrossModal.Models.Tests.Attention;

/// <summary>
/// Each attention stage's backward against central finite differences of its forward (loss = Σ w ⊙ output with fixed
/// random w; float32 forward, step 1e-2, tolerance 2e-3 + 2e-2 |numeric|, as the engine's gradient checks), on
/// lengths that leave vector tails (7 columns, segments of 3 and 4). The stages chained with explicit attended
/// vectors reproduce SCAN's Gram-matrix scores.
/// </summary>
[Trait("Category", "Kernel")]
public class AttentionStageTests
{
    private const float H = 1e-2f;
    private static readonly int[] Segments = [0, 3, 7, 19];

    private static float[] Random(Rng rng, int n, float lo = -1, float hi = 1)
    {
        var x = new float[n];
        rng.Uniform(x, lo, hi);
        return x;
    }

    /// <summary>Checks d(Σ w·f(x))/dx = analytic at every element of x.</summary>
    private static void AssertGradient(float[] x, Func<float[], float[]> forward, float[] w, float[] analytic)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float keep = x[i];
            x[i] = keep + H;
            double plus = Dot(forward(x), w);
            x[i] = keep - H;
            double minus = Dot(forward(x), w);
            x[i] = keep;
            double numeric = (plus - minus) / (2 * H);
            Assert.True(Math.Abs(analytic[i] - numeric) <= 2e-3 + 2e-2 * Math.Abs(numeric), $"element {i}: analytic {analytic[i]}, numeric {numeric}");
        }
    }

    private static double Dot(float[] a, float[] b) => a.Select((v, i) => (double)v * b[i]).Sum();

    [Theory]
    [InlineData(RawFeatureNorm.ClippedL2Norm)]
    [InlineData(RawFeatureNorm.L2Norm)]
    [InlineData(RawFeatureNorm.Softmax)]
    [InlineData(RawFeatureNorm.Clipped)]
    [InlineData(RawFeatureNorm.NoNorm)]
    public void Should_BackpropagateTheRawFeatureNorm(RawFeatureNorm norm)
    {
        var rng = new Rng(1);
        int cols = Segments[^1];
        // Keep |s| >= 0.05 so that no difference straddles the LeakyReLU's kink at 0.
        var s = Random(rng, cols).Select(v => v >= 0 ? v + 0.05f : v - 0.05f).ToArray();
        var w = Random(rng, cols);
        float[] Forward(float[] x)
        {
            var pre = new float[cols];
            var a = new float[cols];
            RawFeatureNormalization.Forward(norm, x, pre, a, Segments, new float[Segments.Length - 1]);
            return a;
        }
        var preF = new float[cols];
        var aF = new float[cols];
        var norms = new float[Segments.Length - 1];
        RawFeatureNormalization.Forward(norm, s, preF, aF, Segments, norms);
        var ds = Random(rng, cols);
        var before = (float[])ds.Clone();
        RawFeatureNormalization.Backward(norm, s, preF, aF, Segments, norms, (float[])w.Clone(), ds);
        // Backward adds to ds: subtract what was there.
        AssertGradient(s, Forward, w, ds.Select((v, i) => v - before[i]).ToArray());
    }

    [Fact]
    public void Should_BackpropagateTheContextSoftmax()
    {
        var rng = new Rng(2);
        int rows = 5, cols = Segments[^1];
        const float lambda = 4f;
        var a = Random(rng, rows * cols);
        var w = Random(rng, rows * cols);
        float[] Forward(float[] x)
        {
            var alpha = new float[rows * cols];
            ContextSoftmax.Forward(x, rows, cols, lambda, alpha, new float[cols], new float[cols]);
            return alpha;
        }
        var alphaF = Forward(a);
        var dAlpha = (float[])w.Clone();
        ContextSoftmax.Backward(alphaF, rows, cols, lambda, dAlpha, new float[cols]);
        AssertGradient(a, Forward, w, dAlpha);
        // Each column of α is a distribution over the context rows.
        for (int q = 0; q < cols; q++) Assert.Equal(1.0, Enumerable.Range(0, rows).Sum(c => alphaF[c * cols + q]), 5);
    }

    [Fact]
    public void Should_BackpropagateTheAttendedVectors()
    {
        var rng = new Rng(3);
        int rows = 5, cols = 9, d = 11;
        var alpha = Random(rng, rows * cols, 0, 1);
        var context = Random(rng, rows * d);
        var w = Random(rng, cols * d);
        var dAlpha = new float[rows * cols];
        var dContext = new float[rows * d];
        AttendedVectors.Backward(alpha, rows, cols, context, d, w, dAlpha, dContext);
        AssertGradient(alpha, x => Attend(x, rows, cols, context, d), w, dAlpha);
        AssertGradient(context, x => Attend(alpha, rows, cols, x, d), w, dContext);
    }

    [Fact]
    public void Should_BackpropagateTheRawSimilarities()
    {
        var rng = new Rng(4);
        int rows = 6, cols = 9, d = 10;
        var context = Random(rng, rows * d);
        var query = Random(rng, cols * d);
        var w = Random(rng, rows * cols);
        float[] S(float[] c, float[] q)
        {
            var s = new float[rows * cols];
            RawSimilarity.Forward(c, rows, q, cols, d, s);
            return s;
        }
        var dContext = Random(rng, rows * d);
        var before = (float[])dContext.Clone();
        var dQuery = new float[cols * d];
        RawSimilarity.Backward(context, rows, query, cols, d, w, dContext, accumulateContext: true, dQuery, accumulateQuery: false);
        AssertGradient(context, x => S(x, query), w, dContext.Select((v, i) => v - before[i]).ToArray());
        AssertGradient(query, x => S(context, x), w, dQuery);
    }

    private static float[] Attend(float[] alpha, int rows, int cols, float[] context, int d)
    {
        var att = new float[cols * d];
        AttendedVectors.Forward(alpha, rows, cols, context, d, att);
        return att;
    }

    [Fact]
    public void Should_ReproduceScansScores_WhenChainedWithExplicitAttendedVectors()
    {
        // t2i, Mean: one image (context = 4 regions) against captions of 3, 4 and 12 words (the segments).
        var rng = new Rng(5);
        int r = 4, d = 9, cols = Segments[^1], partners = Segments.Length - 1;
        var regions = Random(rng, r * d);
        var words = Random(rng, cols * d);
        var o = new CrossAttentionOptions(true, RawFeatureNorm.ClippedL2Norm, 9f, Aggregation.Mean, 6f);

        var s = new float[r * cols];
        RawSimilarity.Forward(regions, r, words, cols, d, s);
        var pre = new float[r * cols];
        var a = new float[r * cols];
        for (int c = 0; c < r; c++)
            RawFeatureNormalization.Forward(o.RawFeatureNorm, s.AsSpan(c * cols, cols), pre.AsSpan(c * cols, cols), a.AsSpan(c * cols, cols), Segments, new float[partners]);
        var alpha = new float[r * cols];
        ContextSoftmax.Forward(a, r, cols, o.LambdaSoftmax, alpha, new float[cols], new float[cols]);
        var att = Attend(alpha, r, cols, regions, d);

        var expected = new double[partners];
        for (int p = 0; p < partners; p++)
        {
            for (int q = Segments[p]; q < Segments[p + 1]; q++)
            {
                var wq = words.AsSpan(q * d, d);
                var aq = att.AsSpan(q * d, d);
                double dot = 0, nw = 0, na = 0;
                for (int k = 0; k < d; k++) { dot += wq[k] * aq[k]; nw += wq[k] * wq[k]; na += aq[k] * aq[k]; }
                expected[p] += dot / Math.Max(Math.Sqrt(nw) * Math.Sqrt(na), 1e-8);
            }
            expected[p] /= Segments[p + 1] - Segments[p];
        }
        var lengths = Enumerable.Range(0, partners).Select(p => Segments[p + 1] - Segments[p]).ToArray();
        var scores = new float[partners];
        CrossAttention.ScoreBlock(regions, 1, r, words, lengths, d, o, scores, partners);
        for (int p = 0; p < partners; p++) Assert.Equal(expected[p], scores[p], 5);
    }
}
