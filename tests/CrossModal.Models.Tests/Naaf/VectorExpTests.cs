using System.Numerics;
using CrossModal.Models.Naaf;

namespace CrossModal.Models.Tests.Naaf;

/// <summary>The fused NAAF scorer's float exponential against double-precision Math.Exp, at whatever vector width the process runs.</summary>
public class VectorExpTests
{
    [Fact]
    public void Should_MatchMathExp_Within3e7Relative_OverTheScorersRange()
    {
        // λ(a − max a) with λ up to 40 reaches about −80; λ(s − θ) stays below λ. Both ends of the float range too.
        int lanes = Vector<float>.Count;
        var xs = Enumerable.Range(0, 20001).Select(i => -87f + i * (88.3f + 87f) / 20000f).ToArray();
        double worst = 0;
        var buffer = new float[lanes];
        for (int i = 0; i < xs.Length; i += lanes)
        {
            for (int k = 0; k < lanes; k++) buffer[k] = xs[Math.Min(i + k, xs.Length - 1)];
            var y = VectorExp.Exp(new Vector<float>(buffer));
            for (int k = 0; k < lanes; k++)
                worst = Math.Max(worst, Math.Abs(y[k] - Math.Exp(buffer[k])) / Math.Exp(buffer[k]));
        }
        Assert.True(worst <= 3e-7, $"largest relative error {worst:E2}");
        Assert.Equal(1f, VectorExp.Exp(Vector<float>.Zero)[0]);
        Assert.True(float.IsPositiveInfinity(VectorExp.Exp(new Vector<float>(89f))[0]));
    }
}
