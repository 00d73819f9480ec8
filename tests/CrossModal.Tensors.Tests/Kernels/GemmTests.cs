using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;

namespace CrossModal.Tensors.Tests.Kernels;

public class GemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 7, 3 }, { 7, 1, 5 }, { 7, 33, 17 }, { 33, 7, 1 }, { 16, 32, 16 }, { 15, 31, 33 },
        { 17, 33, 257 }, { 65, 129, 31 }, { 257, 33, 7 }, { 100, 300, 64 }, { 3, 1000, 2 },
    };

    internal static float[] Naive(bool ta, bool tb, int m, int n, int k, float alpha, float[] a, int lda, float[] b, int ldb, float beta, float[] c0, int ldc)
    {
        var c = (float[])c0.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = ta ? a[p * lda + i] : a[i * lda + p];
                    double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                    s += av * bv;
                }
                c[i * ldc + j] = (float)(alpha * s + (beta == 0 ? 0 : beta * c0[i * ldc + j]));
            }
        return c;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Should_MatchNaive_ForAllTransposes(int m, int n, int k)
    {
        var rng = new Rng((ulong)(m * 1000003 + n * 1009 + k));
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                // Padded leading dimensions exercise the strides.
                int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
                var a = new float[(ta ? k : m) * lda];
                var b = new float[(tb ? n : k) * ldb];
                var c = new float[m * ldc];
                rng.Uniform(a, -1, 1);
                rng.Uniform(b, -1, 1);
                rng.Uniform(c, -1, 1);
                foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (-2f, 0.25f) })
                {
                    var expected = Naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                    var actual = (float[])c.Clone();
                    Gemm.Multiply(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, actual, ldc);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                        {
                            float e = expected[i * ldc + j], g = actual[i * ldc + j];
                            Assert.True(Math.Abs(e - g) <= 1e-5f * (k + 1) * (1 + Math.Abs(e)), $"ta={ta} tb={tb} alpha={alpha} beta={beta} C[{i},{j}]: {g} vs {e}");
                        }
                    // Padding columns of C are never touched.
                    for (int i = 0; i < m; i++)
                        for (int j = n; j < ldc; j++) Assert.Equal(c[i * ldc + j], actual[i * ldc + j]);
                }
            }
    }

    [Fact]
    public void Should_OverwriteNaN_WhenBetaIsZero()
    {
        var a = new float[] { 1, 2, 3, 4 };
        var b = new float[] { 1, 0, 0, 1 };
        var c = new float[] { float.NaN, float.NaN, float.NaN, float.NaN };
        Gemm.Multiply(false, false, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
        Assert.Equal(new float[] { 1, 2, 3, 4 }, c);
    }

    [Fact]
    public void Should_GiveIdenticalBits_ForSameThreadCount()
    {
        var rng = new Rng(5);
        int m = 300, n = 200, k = 700;
        var a = new float[m * k];
        var b = new float[k * n];
        rng.Uniform(a, -1, 1);
        rng.Uniform(b, -1, 1);
        var c1 = new float[m * n];
        var c2 = new float[m * n];
        Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c1, n);
        Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c2, n);
        Assert.Equal(c1, c2);
    }

    [Fact]
    public void Should_MatchSerial_WhenParallel()
    {
        var rng = new Rng(6);
        int m = 129, n = 257, k = 65;
        var a = new float[m * k];
        var b = new float[k * n];
        rng.Uniform(a, -1, 1);
        rng.Uniform(b, -1, 1);
        var serial = new float[m * n];
        var parallel = new float[m * n];
        int keep = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 1;
            Gemm.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, serial, n);
            Parallelism.Threads = 2;
            Gemm.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, parallel, n);
        }
        finally { Parallelism.Threads = keep; }
        for (int i = 0; i < serial.Length; i++) Assert.True(Math.Abs(serial[i] - parallel[i]) <= 1e-4f, $"{i}: {serial[i]} vs {parallel[i]}");
    }

    [Fact]
    public void Should_MultiplyBatches_WithBroadcastOperand()
    {
        var rng = new Rng(7);
        int batch = 5, m = 9, n = 11, k = 13;
        var a = new float[m * k]; // broadcast (stride 0)
        var b = new float[batch * k * n];
        rng.Uniform(a, -1, 1);
        rng.Uniform(b, -1, 1);
        var c = new float[batch * m * n];
        Gemm.MultiplyBatched(batch, false, false, m, n, k, 1f, a, k, 0, b, n, k * n, 0f, c, n, m * n);
        for (int i = 0; i < batch; i++)
        {
            var expected = Naive(false, false, m, n, k, 1f, a, k, b.AsSpan(i * k * n, k * n).ToArray(), n, 0f, new float[m * n], n);
            for (int j = 0; j < m * n; j++) Assert.True(Math.Abs(expected[j] - c[i * m * n + j]) < 1e-4f);
        }
    }

    [Fact]
    public void Should_RejectTooSmallBuffers()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 2, 1f, new float[3], 2, new float[4], 2, 0f, new float[4], 2));
        Assert.Contains("A holds 3", e.Message);
    }
}
