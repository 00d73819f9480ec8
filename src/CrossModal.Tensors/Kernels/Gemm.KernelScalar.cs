using System.Runtime.CompilerServices;

namespace CrossModal.Tensors.Kernels;

// Scalar micro-kernel for machines (or test runs) without 256-bit vectors: a 4 x 4 block of accumulators in
// registers. Uses MathF.FusedMultiplyAdd so every width computes each element of C as the same FMA chain (the JIT
// emits vfmadd when FMA exists and a correctly rounded software fallback otherwise).
public static unsafe partial class Gemm
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x4(nint kc, float* a, float* b, nint ldb, float* c, nint ldc, float beta)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (nint p = 0; p < kc; p++)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            float a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
            c00 = MathF.FusedMultiplyAdd(a0, b0, c00); c01 = MathF.FusedMultiplyAdd(a0, b1, c01);
            c02 = MathF.FusedMultiplyAdd(a0, b2, c02); c03 = MathF.FusedMultiplyAdd(a0, b3, c03);
            c10 = MathF.FusedMultiplyAdd(a1, b0, c10); c11 = MathF.FusedMultiplyAdd(a1, b1, c11);
            c12 = MathF.FusedMultiplyAdd(a1, b2, c12); c13 = MathF.FusedMultiplyAdd(a1, b3, c13);
            c20 = MathF.FusedMultiplyAdd(a2, b0, c20); c21 = MathF.FusedMultiplyAdd(a2, b1, c21);
            c22 = MathF.FusedMultiplyAdd(a2, b2, c22); c23 = MathF.FusedMultiplyAdd(a2, b3, c23);
            c30 = MathF.FusedMultiplyAdd(a3, b0, c30); c31 = MathF.FusedMultiplyAdd(a3, b1, c31);
            c32 = MathF.FusedMultiplyAdd(a3, b2, c32); c33 = MathF.FusedMultiplyAdd(a3, b3, c33);
            a += MrScalar;
            b += ldb;
        }
        UpdateRow(c, c00, c01, c02, c03, beta); c += ldc;
        UpdateRow(c, c10, c11, c12, c13, beta); c += ldc;
        UpdateRow(c, c20, c21, c22, c23, beta); c += ldc;
        UpdateRow(c, c30, c31, c32, c33, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateRow(float* c, float x0, float x1, float x2, float x3, float beta)
    {
        c[0] = UpdateScalar(c[0], x0, beta);
        c[1] = UpdateScalar(c[1], x1, beta);
        c[2] = UpdateScalar(c[2], x2, beta);
        c[3] = UpdateScalar(c[3], x3, beta);
    }

    /// <summary>The scalar twin of the vector Update: acc, c + acc, or fma(c, beta, acc).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float UpdateScalar(float c, float acc, float beta) =>
        beta == 0f ? acc : beta == 1f ? c + acc : MathF.FusedMultiplyAdd(c, beta, acc);
}
