using System.Numerics.Tensors;
using CrossModal.Tensors.Threading;

namespace CrossModal.Tensors.Kernels;

public static unsafe partial class Gemm
{
    /// <summary>Pointer entry point (no argument checks); used by kernels that already hold pinned storage.</summary>
    internal static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m == 0 || n == 0) return;
        // Scale C by beta first; beta = 0 overwrites.
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(row, beta, row);
        }
        if (k == 0 || alpha == 0f) return;

        // Simple reference-quality kernel: rows of C are independent; each row accumulates alpha * a[i,p] * B[p,:].
        // With a transposed B, B is first copied to row-major k x n so the inner loop is contiguous.
        float* bRowMajor = b;
        int ldbRowMajor = ldb;
        float[]? tmp = null;
        if (transB)
        {
            tmp = new float[(long)k * n];
            fixed (float* t = tmp)
            {
                for (int j = 0; j < n; j++)
                    for (int p = 0; p < k; p++)
                        t[(long)p * n + j] = b[(long)j * ldb + p];
            }
        }
        fixed (float* t = tmp)
        {
            if (transB) { bRowMajor = t; ldbRowMajor = n; }
            nint ia = (nint)a, ib = (nint)bRowMajor, ic = (nint)c;
            int ldbb = ldbRowMajor;
            Parallelism.For(m, Math.Max(1, (1 << 16) / Math.Max(1, n * k / 64 + 1)), (s, e) =>
            {
                float* pa = (float*)ia, pb = (float*)ib, pc = (float*)ic;
                for (int i = s; i < e; i++)
                {
                    var crow = new Span<float>(pc + (long)i * ldc, n);
                    for (int p = 0; p < k; p++)
                    {
                        float av = alpha * (transA ? pa[(long)p * lda + i] : pa[(long)i * lda + p]);
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(pb + (long)p * ldbb, n), av, crow, crow);
                    }
                }
            });
        }
    }
}
