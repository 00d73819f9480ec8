using System.Numerics;
using System.Numerics.Tensors;

namespace CrossModal.Models.Attention;

/// <summary>
/// Stage 2: --raw_feature_norm of one row of S (one context item against the queries of every partner), across the
/// query axis, i.e. within each partner's column segment [segStart[p], segStart[p+1]).
/// clipped_l2norm: pre = LeakyReLU(s, 0.1), a = pre / (‖pre‖ + 1e-8) per segment; l2norm: the same without the
/// LeakyReLU; softmax: a = softmax(s) per segment; clipped: a = LeakyReLU(s); no_norm: a = s.
/// </summary>
public static class RawFeatureNormalization
{
    /// <summary>
    /// Normalises <paramref name="s"/> into <paramref name="a"/>, keeping the clipped values in <paramref name="pre"/>
    /// and each segment's norm in <paramref name="segmentNorms"/> (one per partner) for the backward.
    /// </summary>
    public static void Forward(RawFeatureNorm norm, ReadOnlySpan<float> s, Span<float> pre, Span<float> a, ReadOnlySpan<int> segStart, Span<float> segmentNorms)
    {
        int partners = segStart.Length - 1;
        if (norm is RawFeatureNorm.ClippedL2Norm or RawFeatureNorm.Clipped)
        {
            // leaky(x) = max(x, 0.1 x) because the slope is below 1: two vector passes, no branch.
            TensorPrimitives.Multiply(s, AttentionStages.LeakySlope, pre);
            TensorPrimitives.Max(s, pre, pre);
        }
        else s.CopyTo(pre);
        switch (norm)
        {
            case RawFeatureNorm.ClippedL2Norm:
            case RawFeatureNorm.L2Norm:
                for (int p = 0; p < partners; p++)
                {
                    var seg = pre.Slice(segStart[p], segStart[p + 1] - segStart[p]);
                    float n = MathF.Sqrt(TensorPrimitives.SumOfSquares(seg));
                    segmentNorms[p] = n;
                    TensorPrimitives.Divide(seg, n + AttentionStages.Eps, a.Slice(segStart[p], seg.Length));
                }
                break;
            case RawFeatureNorm.Softmax:
                for (int p = 0; p < partners; p++)
                {
                    var seg = pre.Slice(segStart[p], segStart[p + 1] - segStart[p]);
                    TensorPrimitives.SoftMax(seg, a.Slice(segStart[p], seg.Length));
                }
                break;
            default:
                pre.CopyTo(a);
                break;
        }
    }

    /// <summary>
    /// Back-propagates through one row: <paramref name="da"/> holds d loss / d a on entry and is overwritten (scratch);
    /// d loss / d s is ADDED to <paramref name="ds"/>. The other arguments are the forward's.
    /// </summary>
    public static void Backward(RawFeatureNorm norm, ReadOnlySpan<float> s, ReadOnlySpan<float> pre, ReadOnlySpan<float> a, ReadOnlySpan<int> segStart,
        ReadOnlySpan<float> segmentNorms, Span<float> da, Span<float> ds)
    {
        int partners = segStart.Length - 1;
        switch (norm)
        {
            case RawFeatureNorm.ClippedL2Norm:
            case RawFeatureNorm.L2Norm:
                for (int p = 0; p < partners; p++)
                {
                    int start = segStart[p], len = segStart[p + 1] - start;
                    var daSeg = da.Slice(start, len);
                    var preSeg = pre.Slice(start, len);
                    float n = segmentNorms[p], dn = n + AttentionStages.Eps;
                    // a = pre / (‖pre‖ + ε): dpre = da / dn - pre (da·pre) / (dn² ‖pre‖)
                    float k = n > 0f ? TensorPrimitives.Dot(daSeg, preSeg) / (dn * dn * n) : 0f;
                    TensorPrimitives.Multiply(daSeg, 1f / dn, daSeg);
                    TensorPrimitives.MultiplyAdd(preSeg, -k, daSeg, daSeg);
                }
                break;
            case RawFeatureNorm.Softmax:
                for (int p = 0; p < partners; p++)
                {
                    int start = segStart[p], len = segStart[p + 1] - start;
                    var daSeg = da.Slice(start, len);
                    var aSeg = a.Slice(start, len);
                    float k = TensorPrimitives.Dot(daSeg, aSeg);
                    TensorPrimitives.Subtract(daSeg, k, daSeg);
                    TensorPrimitives.Multiply(daSeg, aSeg, daSeg);
                }
                break;
        }
        if (norm is RawFeatureNorm.ClippedL2Norm or RawFeatureNorm.Clipped) AddLeakyGradient(s, da, ds);
        else TensorPrimitives.Add(ds, da, ds);
    }

    /// <summary>
    /// dst += (src &gt; 0 ? 1 : slope) · g, with a vector select: the signs of raw similarities are random, so a branch
    /// per element mispredicts about half the time. Vector&lt;float&gt; is as wide as the machine allows (the tests
    /// run it at every width); the tail is scalar.
    /// </summary>
    internal static void AddLeakyGradient(ReadOnlySpan<float> src, ReadOnlySpan<float> g, Span<float> dst)
    {
        int n = src.Length, i = 0;
        var slope = new Vector<float>(AttentionStages.LeakySlope);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var x = new Vector<float>(src.Slice(i));
            var gv = new Vector<float>(g.Slice(i));
            var d = new Vector<float>(dst.Slice(i));
            (d + Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), gv, gv * slope)).CopyTo(dst.Slice(i));
        }
        for (; i < n; i++) dst[i] += src[i] > 0f ? g[i] : g[i] * AttentionStages.LeakySlope;
    }
}
