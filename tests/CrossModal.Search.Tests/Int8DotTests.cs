using CrossModal.Search.Quantized;
using CrossModal.Tensors;

namespace CrossModal.Search.Tests;

/// <summary>
/// The int8 kernels against plain integer arithmetic: every kernel (AVX-VNNI, AVX2, scalar; the others run in the
/// child processes of <see cref="SimdWidthTests"/>) must give exactly the integer dot products.
/// </summary>
[Trait("Category", "Kernel")]
public unsafe class Int8DotTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(100)]
    [InlineData(1023)]
    public void Should_GiveExactIntegerDots_ForOneAndFourQueries(int d)
    {
        const int G = Int8Dot.GroupItems;
        var rng = new Rng((ulong)d);
        int padded = Int8Dot.PaddedDimension(d), quads = padded / 4;
        // Codes cover the whole range, with the extremes +-127 frequent (the saturation-prone case).
        sbyte Code() => rng.NextFloat() < 0.2f ? (sbyte)(rng.NextFloat() < 0.5f ? -127 : 127) : (sbyte)(rng.NextInt(255) - 127);
        var items = new sbyte[G][];
        var group = new byte[G * padded];
        var sums = new int[G];
        for (int t = 0; t < G; t++)
        {
            items[t] = new sbyte[padded];
            for (int i = 0; i < d; i++) items[t][i] = Code();
            sums[t] = items[t].Sum(c => (int)c);
            fixed (byte* g = group) Int8Dot.Scatter(items[t], g, t);
        }
        var queries = new sbyte[4][];
        var prepared = new sbyte[4 * padded];
        for (int j = 0; j < 4; j++)
        {
            queries[j] = new sbyte[padded];
            for (int i = 0; i < d; i++) queries[j][i] = Code();
            queries[j].CopyTo(prepared, j * padded);
            Int8Dot.PrepareQuery(prepared.AsSpan(j * padded, padded));
        }
        var one = new int[G];
        var four = new int[4 * G];
        fixed (byte* g = group)
        fixed (sbyte* q = prepared)
        fixed (int* s = sums, o1 = one, o4 = four)
        {
            Int8Dot.Group4(g, quads, q, padded, s, o4);
            for (int j = 0; j < 4; j++)
            {
                Int8Dot.Group1(g, quads, q + j * padded, s, o1);
                for (int t = 0; t < G; t++)
                {
                    int expected = 0;
                    for (int i = 0; i < d; i++) expected += items[t][i] * queries[j][i];
                    Assert.True(expected == one[t], $"{Int8Dot.KernelName} d={d} query {j} item {t}: {one[t]} vs {expected}");
                    Assert.True(expected == four[j * G + t], $"{Int8Dot.KernelName} (4 queries) d={d} query {j} item {t}: {four[j * G + t]} vs {expected}");
                }
            }
        }
    }

    [Fact]
    public void Should_QuantizeWithinHalfAStep_AndUseTheFullRange()
    {
        var rng = new Rng(4);
        var x = new float[37];
        rng.Normal(x);
        x[5] = -3.5f; // the largest magnitude, negative
        var codes = new sbyte[40];
        codes.AsSpan().Fill(99); // padding must be cleared
        float s = Int8Dot.Quantize(x, codes.AsSpan(0, 37));
        Assert.Equal(3.5f / 127f, s, 6);
        Assert.Equal(-127, codes[5]);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.InRange(codes[i], -127, 127);
            Assert.True(Math.Abs(x[i] - s * codes[i]) <= s / 2 * (1 + 1e-5f), $"{i}: {x[i]} vs {s * codes[i]}");
        }
        Assert.Equal(0f, Int8Dot.Quantize(new float[3], codes.AsSpan(0, 3)));
        Assert.All(codes.Take(3), c => Assert.Equal(0, c));
    }
}
