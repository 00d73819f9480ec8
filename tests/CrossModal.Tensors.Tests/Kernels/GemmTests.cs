using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;

namespace CrossModal.Tensors.Tests.Kernels;

[Trait("Category", "Kernel")]
[Collection(CrossModal.Tests.ThreadCountCollection.Name)]
public class GemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 7, 3 }, { 7, 1, 5 }, { 7, 33, 17 }, { 33, 7, 1 }, { 16, 32, 16 }, { 15, 31, 33 },
        { 17, 33, 257 }, { 65, 129, 31 }, { 257, 33, 7 }, { 100, 300, 64 }, { 3, 1000, 2 },
        { 1, 257, 7 }, { 257, 1, 33 }, { 12, 64, 300 }, { 13, 97, 513 }, { 24, 32, 1 }, { 5, 100, 40 },
        // Very skinny shapes (the dot-product path where it applies), with k tails after whole 16-wide chunks.
        { 8, 300, 100 }, { 300, 8, 100 }, { 2, 50, 31 }, { 50, 3, 47 },
        // Past every block size: rows past Mc (1536, with an edge of 7), columns past Nc (512 at 512 bits, 256 at
        // 256 bits: 530 crosses both, with edges), depth past Kc (320, in uneven and balanced splits), and the
        // streamed-B path for few rows.
        { 800, 70, 530 }, { 30, 4200, 300 }, { 5, 4200, 600 }, { 12, 4131, 257 }, { 1543, 19, 21 }, { 20, 530, 330 },
        // Row edges of every kernel height: 6 + 2 (m = 128's edge at 256 bits), 12 + 4 / 6 + 4, 6 + 1, 12 + 9.
        { 8, 48, 20 }, { 16, 40, 9 }, { 7, 17, 24 }, { 21, 33, 18 },
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
                            if (!(Math.Abs(e - g) <= 1e-5f * (k + 1) * (1 + Math.Abs(e))))
                                Assert.Fail($"{m}x{n}x{k} ta={ta} tb={tb} alpha={alpha} beta={beta} C[{i},{j}]: {g} vs {e}");
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

    /// <summary>Shapes that take each thread split (rows, columns) and the streamed-B path.</summary>
    public static TheoryData<bool, bool, int, int, int> SplitShapes => new()
    {
        { false, false, 1000, 90, 300 }, { false, true, 60, 3000, 200 }, { false, false, 12, 5000, 300 },
        { true, true, 301, 301, 301 }, { true, false, 9, 2000, 700 }, { false, true, 4, 3000, 1000 }, { false, false, 3000, 3, 1000 },
    };

    [Theory]
    [MemberData(nameof(SplitShapes))]
    public void Should_GiveIdenticalBits_ForAnyThreadCount(bool ta, bool tb, int m, int n, int k)
    {
        // Every element of C is the same FMA chain in k order whichever thread or edge kernel computes it.
        var rng = new Rng(11);
        var a = new float[m * k];
        var b = new float[k * n];
        rng.Uniform(a, -1, 1);
        rng.Uniform(b, -1, 1);
        int lda = ta ? m : k, ldb = tb ? k : n;
        var results = new List<float[]>();
        int keep = Parallelism.Threads;
        try
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Parallelism.Threads = threads;
                var c = new float[m * n];
                Gemm.Multiply(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
                results.Add(c);
            }
        }
        finally { Parallelism.Threads = keep; }
        Assert.Equal(results[0], results[1]);
        Assert.Equal(results[0], results[2]);
        var probe = Naive(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, new float[m * n], n);
        for (int i = 0; i < probe.Length; i += 997) Assert.True(Math.Abs(probe[i] - results[0][i]) <= 1e-5f * k, $"{i}: {results[0][i]} vs {probe[i]}");
    }

    [Fact]
    public void Should_RunSerially_InsideParallelRegion()
    {
        var rng = new Rng(12);
        int m = 200, n = 300, k = 150;
        var a = new float[m * k];
        var b = new float[k * n];
        rng.Uniform(a, -1, 1);
        rng.Uniform(b, -1, 1);
        var outside = new float[m * n];
        Gemm.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, outside, n);
        var inside = new float[2][];
        bool[] wasInside = new bool[2];
        Parallelism.ForEachTask(2, t =>
        {
            wasInside[t] = Parallelism.InsideRegion || Parallelism.Threads == 1;
            inside[t] = new float[m * n];
            Gemm.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, inside[t], n);
        });
        Assert.All(wasInside, Assert.True);
        Assert.Equal(outside, inside[0]);
        Assert.Equal(outside, inside[1]);
    }

    [Fact]
    public void Should_OnlyScaleC_WhenKOrAlphaIsZero()
    {
        var a = new float[] { 1, 2, 3, 4, 5, 6 };
        var b = new float[] { 7, 8, 9, 10, 11, 12 };
        var c = new float[] { 1, float.NaN, 3, 4 };
        var scaled = (float[])c.Clone();
        Gemm.Multiply(false, false, 2, 2, 0, 1f, a, 1, b, 2, 0.5f, scaled, 2);
        Assert.Equal(new[] { 0.5f, float.NaN, 1.5f, 2f }, scaled);
        var cleared = (float[])c.Clone();
        Gemm.Multiply(false, false, 2, 2, 3, 0f, a, 3, b, 2, 0f, cleared, 2);
        Assert.Equal(new float[4], cleared);
    }

    [Fact]
    public void Should_OverwriteNaN_WhenBetaIsZero_OnFullAndEdgeTiles()
    {
        var rng = new Rng(13);
        int m = 40, n = 70, k = 300; // full 12 x 32 tiles plus row and column edges, two depth blocks
        var a = new float[m * k];
        var b = new float[n * k];
        rng.Uniform(a, -1, 1);
        rng.Uniform(b, -1, 1);
        var c = new float[m * n];
        Array.Fill(c, float.NaN);
        Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n);
        var expected = Naive(false, true, m, n, k, 1f, a, k, b, k, 0f, new float[m * n], n);
        for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(expected[i] - c[i]) <= 1e-4f, $"{i}: {c[i]} vs {expected[i]}");
    }

    [Fact]
    public void Should_PropagateNaN_FromInputs()
    {
        int m = 20, n = 40, k = 10;
        var a = new float[m * k];
        var b = new float[k * n];
        Array.Fill(a, 1f);
        Array.Fill(b, 1f);
        a[3 * k + 4] = float.NaN; // row 3 of A
        var c = new float[m * n];
        Gemm.Multiply(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(i == 3, float.IsNaN(c[i * n + j]));
    }

    public static TheoryData<int, int, int> PackedShapes => new()
    {
        { 1, 1, 1 }, { 7, 33, 17 }, { 12, 64, 300 }, { 13, 97, 513 }, { 30, 700, 300 }, { 5, 40, 650 }, { 100, 65, 40 },
    };

    [Theory]
    [MemberData(nameof(PackedShapes))]
    public void Should_MatchUnpackedBitForBit_WithPrepackedB(int m, int n, int k)
    {
        var rng = new Rng((ulong)(m + 17 * n + 101 * k));
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                int lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 3, ldc = n + 1;
                var a = new float[(ta ? k : m) * lda];
                var b = new float[(tb ? n : k) * ldb];
                var c = new float[m * ldc];
                rng.Uniform(a, -1, 1);
                rng.Uniform(b, -1, 1);
                rng.Uniform(c, -1, 1);
                var unpacked = (float[])c.Clone();
                Gemm.Multiply(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, unpacked, ldc);
                var packed = (float[])c.Clone();
                using (var pb = Gemm.Pack(tb, k, n, b, ldb))
                    Gemm.Multiply(ta, m, 0.5f, a, lda, pb, 0.25f, packed, ldc);
                // Same panels, same FMA chains: identical bits (unless the unpacked product took the dot-product
                // path for very skinny shapes); and both agree with the naive product.
                if (!Gemm.UsesDotPath(ta, tb, m, n, k)) Assert.Equal(unpacked, packed);
                var expected = Naive(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c, ldc);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(expected[i] - packed[i]) <= 2e-6f * (k + 1) * (1 + Math.Abs(expected[i])), $"ta={ta} tb={tb} [{i}]: {packed[i]} vs {expected[i]}");
            }
    }

    [Fact]
    public void Should_NotAllocate_OnTheSerialHotPath()
    {
        // Packing buffers are per thread and reused; the edge tile lives on the stack.
        var rng = new Rng(14);
        int m = 100, n = 200, k = 700;
        var a = new float[m * k];
        var b = new float[n * k];
        var c = new float[m * n];
        rng.Uniform(a, -1, 1);
        rng.Uniform(b, -1, 1);
        int keep = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 1;
            Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n); // warm-up: grows this thread's buffers
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            // The skinny dot-product path (4 rows against a transposed B) too.
            Gemm.Multiply(false, true, 4, n, k, 1f, a, k, b, k, 0f, c, n);
            before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) Gemm.Multiply(false, true, 4, n, k, 1f, a, k, b, k, 0f, c, n);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally { Parallelism.Threads = keep; }
    }
}
