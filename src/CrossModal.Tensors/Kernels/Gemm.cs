using CrossModal.Tensors.Threading;

namespace CrossModal.Tensors.Kernels;

/// <summary>
/// Single-precision general matrix multiply, row-major: C = alpha * op(A) * op(B) + beta * C, where op(X) is X or
/// its transpose (no transpose is materialised by the caller). op(A) is m x k, op(B) is k x n, C is m x n;
/// lda, ldb, ldc are row strides in elements. beta = 0 overwrites C (NaNs in C are not propagated).
/// Splits the work across <see cref="Parallelism.Threads"/> unless already inside a parallel region.
/// </summary>
public static unsafe partial class Gemm
{
    /// <summary>C = alpha * op(A) * op(B) + beta * C on spans.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        CheckArguments(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
            Multiply(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    /// <summary>
    /// Batched multiply: for each i in [0, batch), C_i = alpha * op(A_i) * op(B_i) + beta * C_i with A_i at
    /// a + i * strideA (and likewise for B and C). A stride of 0 broadcasts one matrix over the batch.
    /// </summary>
    public static void MultiplyBatched(int batch, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC)
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch));
        if (batch == 0 || m == 0 || n == 0) return;
        long needA = (batch - 1) * strideA, needB = (batch - 1) * strideB, needC = (batch - 1) * strideC;
        CheckArguments(transA, transB, m, n, k, a.Length - needA, lda, b.Length - needB, ldb, c.Length - needC, ldc);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            nint ia = (nint)pa, ib = (nint)pb, ic = (nint)pc;
            if (batch >= Parallelism.Threads || (long)m * n * k < 1 << 18)
            {
                Parallelism.For(batch, 1, (s, e) =>
                {
                    for (int i = s; i < e; i++)
                        Multiply(transA, transB, m, n, k, alpha, (float*)ia + i * strideA, lda, (float*)ib + i * strideB, ldb,
                            beta, (float*)ic + i * strideC, ldc);
                });
            }
            else
            {
                for (int i = 0; i < batch; i++)
                    Multiply(transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb, beta, pc + i * strideC, ldc);
            }
        }
    }

    /// <summary>
    /// Packs op(B) [k x n] (B stored [k x n], or [n x k] when <paramref name="transB"/>) for repeated use with
    /// <see cref="Multiply(bool, int, float, ReadOnlySpan{float}, int, PackedMatrix, float, Span{float}, int)"/>.
    /// The caller disposes the result.
    /// </summary>
    internal static PackedMatrix Pack(bool transB, int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        CheckArguments(false, transB, 1, n, k, k, Math.Max(1, k), b.Length, ldb, n, Math.Max(1, n));
        var packed = new PackedMatrix(k, n, Nr);
        fixed (float* pb = b)
        fixed (float* ps = packed.Storage)
        {
            packed.Offset = (int)((64 - ((nint)ps & 63)) & 63) / sizeof(float);
            float* dst = ps + packed.Offset;
            int kBlocks = (k + Kc - 1) / Kc;
            for (int kb = 0; kb < kBlocks && n > 0; kb++)
            {
                int pc = (int)((long)k * kb / kBlocks), kc = (int)((long)k * (kb + 1) / kBlocks) - pc;
                PackB(transB, pb, ldb, pc, kc, 0, n, dst + (long)pc * packed.PaddedN);
            }
        }
        return packed;
    }

    /// <summary>C = alpha * op(A) * B + beta * C with B packed by <see cref="Pack"/>; op(A) is m x b.K, C is m x b.N.</summary>
    internal static void Multiply(bool transA, int m, float alpha, ReadOnlySpan<float> a, int lda, PackedMatrix b,
        float beta, Span<float> c, int ldc)
    {
        int n = b.N, k = b.K;
        CheckArguments(transA, false, m, n, k, a.Length, lda, (long)k * n, Math.Max(1, n), c.Length, ldc);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pc = c)
        fixed (float* ps = b.Storage)
        {
            if (k == 0 || alpha == 0f)
            {
                ScaleRows(m, n, beta, pc, ldc);
                return;
            }
            // For a prepacked B the job's Ldb carries n (the panels' padded stride is derived from it).
            Execute(new Job(transA, false, k, alpha, (nint)pa, lda, 0, n, (nint)(ps + b.Offset), beta, (nint)pc, ldc), m, n);
        }
    }

    internal static void CheckArguments(bool transA, bool transB, int m, int n, int k, long aLength, int lda,
        long bLength, int ldb, long cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Negative GEMM size m={m} n={n} k={k}.");
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        if (lda < Math.Max(1, aCols)) throw new ArgumentException($"lda={lda} is smaller than A's {aCols} columns.");
        if (ldb < Math.Max(1, bCols)) throw new ArgumentException($"ldb={ldb} is smaller than B's {bCols} columns.");
        if (ldc < Math.Max(1, n)) throw new ArgumentException($"ldc={ldc} is smaller than C's {n} columns.");
        if (aRows > 0 && aCols > 0 && (long)(aRows - 1) * lda + aCols > aLength) throw new ArgumentException($"A holds {aLength} floats, needs {(long)(aRows - 1) * lda + aCols}.");
        if (bRows > 0 && bCols > 0 && (long)(bRows - 1) * ldb + bCols > bLength) throw new ArgumentException($"B holds {bLength} floats, needs {(long)(bRows - 1) * ldb + bCols}.");
        if (m > 0 && n > 0 && (long)(m - 1) * ldc + n > cLength) throw new ArgumentException($"C holds {cLength} floats, needs {(long)(m - 1) * ldc + n}.");
    }
}
