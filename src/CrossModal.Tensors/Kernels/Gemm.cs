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
