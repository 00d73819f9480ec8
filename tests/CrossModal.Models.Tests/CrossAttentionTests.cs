using CrossModal.Models.Attention;
using CrossModal.Models.Scan;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tests;

namespace CrossModal.Models.Tests;

public class CrossAttentionTests
{
    public static TheoryData<bool, RawFeatureNorm, Aggregation> AllSettings()
    {
        var d = new TheoryData<bool, RawFeatureNorm, Aggregation>();
        foreach (bool t2i in new[] { true, false })
            foreach (RawFeatureNorm n in Enum.GetValues<RawFeatureNorm>())
                foreach (Aggregation a in Enum.GetValues<Aggregation>())
                    d.Add(t2i, n, a);
        return d;
    }

    /// <summary>
    /// The original per-pair math spelled out (func_attention + cosine_similarity + pooling), in double precision,
    /// building the attended vectors explicitly; an independent check of the fused Gram-matrix formulation.
    /// </summary>
    private static double NaivePair(float[] img, int r, float[] cap, int len, int d, CrossAttentionOptions o)
    {
        // query/context as in xattn_score_t2i (query = words) or xattn_score_i2t (query = regions).
        int nq = o.TextToImage ? len : r, nc = o.TextToImage ? r : len;
        double Q(int q, int k) => o.TextToImage ? cap[q * d + k] : img[q * d + k];
        double C(int c, int k) => o.TextToImage ? img[c * d + k] : cap[c * d + k];
        var a = new double[nc, nq];
        for (int c = 0; c < nc; c++)
            for (int q = 0; q < nq; q++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += C(c, k) * Q(q, k);
                a[c, q] = s;
            }
        for (int c = 0; c < nc; c++)
        {
            if (o.RawFeatureNorm is RawFeatureNorm.ClippedL2Norm or RawFeatureNorm.Clipped)
                for (int q = 0; q < nq; q++) a[c, q] = a[c, q] > 0 ? a[c, q] : 0.1 * a[c, q];
            if (o.RawFeatureNorm is RawFeatureNorm.ClippedL2Norm or RawFeatureNorm.L2Norm)
            {
                double n = 0;
                for (int q = 0; q < nq; q++) n += a[c, q] * a[c, q];
                n = Math.Sqrt(n) + 1e-8;
                for (int q = 0; q < nq; q++) a[c, q] /= n;
            }
            if (o.RawFeatureNorm == RawFeatureNorm.Softmax)
            {
                double m = double.MinValue, z = 0;
                for (int q = 0; q < nq; q++) m = Math.Max(m, a[c, q]);
                for (int q = 0; q < nq; q++) z += Math.Exp(a[c, q] - m);
                for (int q = 0; q < nq; q++) a[c, q] = Math.Exp(a[c, q] - m) / z;
            }
        }
        var rel = new double[nq];
        for (int q = 0; q < nq; q++)
        {
            double m = double.MinValue, z = 0;
            for (int c = 0; c < nc; c++) m = Math.Max(m, o.LambdaSoftmax * a[c, q]);
            var att = new double[d];
            var w = new double[nc];
            for (int c = 0; c < nc; c++) z += w[c] = Math.Exp(o.LambdaSoftmax * a[c, q] - m);
            for (int c = 0; c < nc; c++)
                for (int k = 0; k < d; k++) att[k] += w[c] / z * C(c, k);
            double dot = 0, nq2 = 0, na2 = 0;
            for (int k = 0; k < d; k++) { dot += Q(q, k) * att[k]; nq2 += Q(q, k) * Q(q, k); na2 += att[k] * att[k]; }
            rel[q] = dot / Math.Max(Math.Sqrt(nq2) * Math.Sqrt(na2), 1e-8);
        }
        return o.Aggregation switch
        {
            Aggregation.LogSumExp => Math.Log(rel.Sum(v => Math.Exp(o.LambdaLse * v))) / o.LambdaLse,
            Aggregation.Mean => rel.Average(),
            Aggregation.Max => rel.Max(),
            _ => rel.Sum(),
        };
    }

    private static (Tensor Images, Tensor Captions, int[] Lengths) Inputs(int seed, int bi = 3, int r = 4, int bc = 4, int t = 5, int d = 6)
    {
        var rng = new Rng((ulong)seed);
        var images = Tensor.Zeros(bi, r, d);
        var captions = Tensor.Zeros(bc, t, d);
        rng.Uniform(images.Data, -1, 1);
        rng.Uniform(captions.Data, -1, 1);
        var lengths = new int[bc];
        for (int c = 0; c < bc; c++) lengths[c] = 2 + c % (t - 1);
        return (images, captions, lengths);
    }

    [Theory]
    [MemberData(nameof(AllSettings))]
    public void Should_MatchTheOriginalPerPairMath(bool t2i, RawFeatureNorm norm, Aggregation agg)
    {
        var o = new CrossAttentionOptions(t2i, norm, t2i ? 9f : 4f, agg, t2i ? 6f : 5f);
        var (images, captions, lengths) = Inputs(11);
        var scores = CrossAttention.Scores(images, captions, lengths, o);
        int bi = images.Dim(0), r = images.Dim(1), d = images.Dim(2), t = captions.Dim(1);
        for (int i = 0; i < bi; i++)
            for (int c = 0; c < lengths.Length; c++)
            {
                var img = images.Data.Slice(i * r * d, r * d).ToArray();
                var cap = captions.Data.Slice(c * t * d, t * d).ToArray();
                double expected = NaivePair(img, r, cap, lengths[c], d, o);
                Assert.Equal(expected, scores[i, c], 1e-4 * Math.Max(1, Math.Abs(expected)));
            }
    }

    [Theory]
    [MemberData(nameof(AllSettings))]
    public void Should_MatchFiniteDifferences(bool t2i, RawFeatureNorm norm, Aggregation agg)
    {
        // Max pooling has kinks; the fixed inputs keep the argmax away from ties.
        var o = new CrossAttentionOptions(t2i, norm, 4f, agg, 5f);
        var (images, captions, lengths) = Inputs(12, bi: 2, r: 3, bc: 3, t: 4, d: 5);
        images.RequiresGrad = true;
        captions.RequiresGrad = true;
        GradCheck.Check(x => CrossAttention.Scores(x[0], x[1], lengths, o), images, captions);
    }

    [Fact]
    public void Should_GiveBlockScores_EqualToTheDifferentiablePath()
    {
        var o = new CrossAttentionOptions(false, RawFeatureNorm.ClippedL2Norm, 4f, Aggregation.LogSumExp, 5f);
        var (images, captions, lengths) = Inputs(13);
        Tensor expected;
        using (Tape.NoGrad()) expected = CrossAttention.Scores(images, captions, lengths, o);
        int d = images.Dim(2), t = captions.Dim(1);
        var words = new List<float>();
        for (int c = 0; c < lengths.Length; c++) words.AddRange(captions.Data.Slice(c * t * d, lengths[c] * d).ToArray());
        var output = new float[images.Dim(0) * 10];
        CrossAttention.ScoreBlock(images.Data, images.Dim(0), images.Dim(1), words.ToArray(), lengths, d, o, output, 10);
        for (int i = 0; i < images.Dim(0); i++)
            for (int c = 0; c < lengths.Length; c++) Assert.Equal(expected[i, c], output[i * 10 + c], 6);
    }
}
