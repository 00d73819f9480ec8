using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossModal.Tensors.Kernels;

// AVX2 + FMA micro-kernel (used when 512-bit vectors are not accelerated): same contract as the AVX-512 kernels with
// a 6-row A panel and a 16-column B panel. Half the peak of the 512-bit path by construction (half-width vectors).
public static unsafe partial class Gemm
{
    /// <summary>6 x 16 block with 256-bit vectors: 12 ymm accumulators + 2 B vectors + 1 broadcast fit the 16 registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(nint kc, float* a, float* b, nint ldb, float* c, nint ldc, float beta)
    {
        Vector256<float> lo0 = default, hi0 = default;
        Vector256<float> lo1 = default, hi1 = default;
        Vector256<float> lo2 = default, hi2 = default;
        Vector256<float> lo3 = default, hi3 = default;
        Vector256<float> lo4 = default, hi4 = default;
        Vector256<float> lo5 = default, hi5 = default;
        for (nint p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            lo0 = Vector256.FusedMultiplyAdd(a0, b0, lo0);
            hi0 = Vector256.FusedMultiplyAdd(a0, b1, hi0);
            var a1 = Vector256.Create(a[1]);
            lo1 = Vector256.FusedMultiplyAdd(a1, b0, lo1);
            hi1 = Vector256.FusedMultiplyAdd(a1, b1, hi1);
            var a2 = Vector256.Create(a[2]);
            lo2 = Vector256.FusedMultiplyAdd(a2, b0, lo2);
            hi2 = Vector256.FusedMultiplyAdd(a2, b1, hi2);
            var a3 = Vector256.Create(a[3]);
            lo3 = Vector256.FusedMultiplyAdd(a3, b0, lo3);
            hi3 = Vector256.FusedMultiplyAdd(a3, b1, hi3);
            var a4 = Vector256.Create(a[4]);
            lo4 = Vector256.FusedMultiplyAdd(a4, b0, lo4);
            hi4 = Vector256.FusedMultiplyAdd(a4, b1, hi4);
            var a5 = Vector256.Create(a[5]);
            lo5 = Vector256.FusedMultiplyAdd(a5, b0, lo5);
            hi5 = Vector256.FusedMultiplyAdd(a5, b1, hi5);
            a += Mr256;
            b += ldb;
        }
        Update(c, lo0, beta); Update(c + 8, hi0, beta); c += ldc;
        Update(c, lo1, beta); Update(c + 8, hi1, beta); c += ldc;
        Update(c, lo2, beta); Update(c + 8, hi2, beta); c += ldc;
        Update(c, lo3, beta); Update(c + 8, hi3, beta); c += ldc;
        Update(c, lo4, beta); Update(c + 8, hi4, beta); c += ldc;
        Update(c, lo5, beta); Update(c + 8, hi5, beta); c += ldc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* c, Vector256<float> acc, float beta)
    {
        if (beta == 0f) Vector256.Store(acc, c);
        else if (beta == 1f) Vector256.Store(Vector256.Load(c) + acc, c);
        else Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c), Vector256.Create(beta), acc), c);
    }
}
