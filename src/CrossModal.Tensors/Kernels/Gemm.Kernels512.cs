using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CrossModal.Tensors.Kernels;

// AVX-512 micro-kernels: C[rows x 32] (+)= A-panel * B-panel over kc steps. The A panel holds Mr512 (12) rows per
// k step (zero-padded at the edge), so the 8- and 4-row kernels read the same layout and only skip the unused rows.
// The B panel row stride is ldb: 32 for a packed panel, the matrix's own stride when B is streamed unpacked.
// Every kernel computes each element of C as the same chain of FMAs in k order, so which kernel (or thread) computes
// a tile never changes the result. 12 x 32 uses 24 of the 32 zmm registers for accumulators: with 2 loads and
// 12 broadcasts per 24 FMAs it keeps both FMA pipes busy while loads stay below the two-per-cycle limit.
public static unsafe partial class Gemm
{
    /// <summary>12 x 32 block: 24 zmm accumulators; per k step two loads of B and 12 broadcasts of A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel12x32(nint kc, float* a, float* b, nint ldb, float* c, nint ldc, float beta)
    {
        // The C tile is read only after the k loop; fetching its lines now hides that latency behind the FMAs.
        for (int i = 0; i < 12; i++)
        {
            Sse.Prefetch0(c + i * ldc);
            Sse.Prefetch0(c + i * ldc + 16);
        }
        Vector512<float> lo0 = default, hi0 = default;
        Vector512<float> lo1 = default, hi1 = default;
        Vector512<float> lo2 = default, hi2 = default;
        Vector512<float> lo3 = default, hi3 = default;
        Vector512<float> lo4 = default, hi4 = default;
        Vector512<float> lo5 = default, hi5 = default;
        Vector512<float> lo6 = default, hi6 = default;
        Vector512<float> lo7 = default, hi7 = default;
        Vector512<float> lo8 = default, hi8 = default;
        Vector512<float> lo9 = default, hi9 = default;
        Vector512<float> lo10 = default, hi10 = default;
        Vector512<float> lo11 = default, hi11 = default;
        for (nint p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            lo0 = Vector512.FusedMultiplyAdd(a0, b0, lo0);
            hi0 = Vector512.FusedMultiplyAdd(a0, b1, hi0);
            var a1 = Vector512.Create(a[1]);
            lo1 = Vector512.FusedMultiplyAdd(a1, b0, lo1);
            hi1 = Vector512.FusedMultiplyAdd(a1, b1, hi1);
            var a2 = Vector512.Create(a[2]);
            lo2 = Vector512.FusedMultiplyAdd(a2, b0, lo2);
            hi2 = Vector512.FusedMultiplyAdd(a2, b1, hi2);
            var a3 = Vector512.Create(a[3]);
            lo3 = Vector512.FusedMultiplyAdd(a3, b0, lo3);
            hi3 = Vector512.FusedMultiplyAdd(a3, b1, hi3);
            var a4 = Vector512.Create(a[4]);
            lo4 = Vector512.FusedMultiplyAdd(a4, b0, lo4);
            hi4 = Vector512.FusedMultiplyAdd(a4, b1, hi4);
            var a5 = Vector512.Create(a[5]);
            lo5 = Vector512.FusedMultiplyAdd(a5, b0, lo5);
            hi5 = Vector512.FusedMultiplyAdd(a5, b1, hi5);
            var a6 = Vector512.Create(a[6]);
            lo6 = Vector512.FusedMultiplyAdd(a6, b0, lo6);
            hi6 = Vector512.FusedMultiplyAdd(a6, b1, hi6);
            var a7 = Vector512.Create(a[7]);
            lo7 = Vector512.FusedMultiplyAdd(a7, b0, lo7);
            hi7 = Vector512.FusedMultiplyAdd(a7, b1, hi7);
            var a8 = Vector512.Create(a[8]);
            lo8 = Vector512.FusedMultiplyAdd(a8, b0, lo8);
            hi8 = Vector512.FusedMultiplyAdd(a8, b1, hi8);
            var a9 = Vector512.Create(a[9]);
            lo9 = Vector512.FusedMultiplyAdd(a9, b0, lo9);
            hi9 = Vector512.FusedMultiplyAdd(a9, b1, hi9);
            var a10 = Vector512.Create(a[10]);
            lo10 = Vector512.FusedMultiplyAdd(a10, b0, lo10);
            hi10 = Vector512.FusedMultiplyAdd(a10, b1, hi10);
            var a11 = Vector512.Create(a[11]);
            lo11 = Vector512.FusedMultiplyAdd(a11, b0, lo11);
            hi11 = Vector512.FusedMultiplyAdd(a11, b1, hi11);
            a += Mr512;
            b += ldb;
        }
        Update(c, lo0, beta); Update(c + 16, hi0, beta); c += ldc;
        Update(c, lo1, beta); Update(c + 16, hi1, beta); c += ldc;
        Update(c, lo2, beta); Update(c + 16, hi2, beta); c += ldc;
        Update(c, lo3, beta); Update(c + 16, hi3, beta); c += ldc;
        Update(c, lo4, beta); Update(c + 16, hi4, beta); c += ldc;
        Update(c, lo5, beta); Update(c + 16, hi5, beta); c += ldc;
        Update(c, lo6, beta); Update(c + 16, hi6, beta); c += ldc;
        Update(c, lo7, beta); Update(c + 16, hi7, beta); c += ldc;
        Update(c, lo8, beta); Update(c + 16, hi8, beta); c += ldc;
        Update(c, lo9, beta); Update(c + 16, hi9, beta); c += ldc;
        Update(c, lo10, beta); Update(c + 16, hi10, beta); c += ldc;
        Update(c, lo11, beta); Update(c + 16, hi11, beta); c += ldc;
    }

    /// <summary>8 x 32 block: 16 zmm accumulators; per k step two loads of B and 8 broadcasts of A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(nint kc, float* a, float* b, nint ldb, float* c, nint ldc, float beta)
    {
        for (int i = 0; i < 8; i++)
        {
            Sse.Prefetch0(c + i * ldc);
            Sse.Prefetch0(c + i * ldc + 16);
        }
        Vector512<float> lo0 = default, hi0 = default;
        Vector512<float> lo1 = default, hi1 = default;
        Vector512<float> lo2 = default, hi2 = default;
        Vector512<float> lo3 = default, hi3 = default;
        Vector512<float> lo4 = default, hi4 = default;
        Vector512<float> lo5 = default, hi5 = default;
        Vector512<float> lo6 = default, hi6 = default;
        Vector512<float> lo7 = default, hi7 = default;
        for (nint p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            lo0 = Vector512.FusedMultiplyAdd(a0, b0, lo0);
            hi0 = Vector512.FusedMultiplyAdd(a0, b1, hi0);
            var a1 = Vector512.Create(a[1]);
            lo1 = Vector512.FusedMultiplyAdd(a1, b0, lo1);
            hi1 = Vector512.FusedMultiplyAdd(a1, b1, hi1);
            var a2 = Vector512.Create(a[2]);
            lo2 = Vector512.FusedMultiplyAdd(a2, b0, lo2);
            hi2 = Vector512.FusedMultiplyAdd(a2, b1, hi2);
            var a3 = Vector512.Create(a[3]);
            lo3 = Vector512.FusedMultiplyAdd(a3, b0, lo3);
            hi3 = Vector512.FusedMultiplyAdd(a3, b1, hi3);
            var a4 = Vector512.Create(a[4]);
            lo4 = Vector512.FusedMultiplyAdd(a4, b0, lo4);
            hi4 = Vector512.FusedMultiplyAdd(a4, b1, hi4);
            var a5 = Vector512.Create(a[5]);
            lo5 = Vector512.FusedMultiplyAdd(a5, b0, lo5);
            hi5 = Vector512.FusedMultiplyAdd(a5, b1, hi5);
            var a6 = Vector512.Create(a[6]);
            lo6 = Vector512.FusedMultiplyAdd(a6, b0, lo6);
            hi6 = Vector512.FusedMultiplyAdd(a6, b1, hi6);
            var a7 = Vector512.Create(a[7]);
            lo7 = Vector512.FusedMultiplyAdd(a7, b0, lo7);
            hi7 = Vector512.FusedMultiplyAdd(a7, b1, hi7);
            a += Mr512;
            b += ldb;
        }
        Update(c, lo0, beta); Update(c + 16, hi0, beta); c += ldc;
        Update(c, lo1, beta); Update(c + 16, hi1, beta); c += ldc;
        Update(c, lo2, beta); Update(c + 16, hi2, beta); c += ldc;
        Update(c, lo3, beta); Update(c + 16, hi3, beta); c += ldc;
        Update(c, lo4, beta); Update(c + 16, hi4, beta); c += ldc;
        Update(c, lo5, beta); Update(c + 16, hi5, beta); c += ldc;
        Update(c, lo6, beta); Update(c + 16, hi6, beta); c += ldc;
        Update(c, lo7, beta); Update(c + 16, hi7, beta); c += ldc;
    }

    /// <summary>4 x 32 block: 8 zmm accumulators; per k step two loads of B and 4 broadcasts of A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x32(nint kc, float* a, float* b, nint ldb, float* c, nint ldc, float beta)
    {
        for (int i = 0; i < 4; i++)
        {
            Sse.Prefetch0(c + i * ldc);
            Sse.Prefetch0(c + i * ldc + 16);
        }
        Vector512<float> lo0 = default, hi0 = default;
        Vector512<float> lo1 = default, hi1 = default;
        Vector512<float> lo2 = default, hi2 = default;
        Vector512<float> lo3 = default, hi3 = default;
        for (nint p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            lo0 = Vector512.FusedMultiplyAdd(a0, b0, lo0);
            hi0 = Vector512.FusedMultiplyAdd(a0, b1, hi0);
            var a1 = Vector512.Create(a[1]);
            lo1 = Vector512.FusedMultiplyAdd(a1, b0, lo1);
            hi1 = Vector512.FusedMultiplyAdd(a1, b1, hi1);
            var a2 = Vector512.Create(a[2]);
            lo2 = Vector512.FusedMultiplyAdd(a2, b0, lo2);
            hi2 = Vector512.FusedMultiplyAdd(a2, b1, hi2);
            var a3 = Vector512.Create(a[3]);
            lo3 = Vector512.FusedMultiplyAdd(a3, b0, lo3);
            hi3 = Vector512.FusedMultiplyAdd(a3, b1, hi3);
            a += Mr512;
            b += ldb;
        }
        Update(c, lo0, beta); Update(c + 16, hi0, beta); c += ldc;
        Update(c, lo1, beta); Update(c + 16, hi1, beta); c += ldc;
        Update(c, lo2, beta); Update(c + 16, hi2, beta); c += ldc;
        Update(c, lo3, beta); Update(c + 16, hi3, beta); c += ldc;
    }

    /// <summary>C = acc (beta 0, C never read), C + acc (beta 1) or beta * C + acc as one FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* c, Vector512<float> acc, float beta)
    {
        if (beta == 0f) Vector512.Store(acc, c);
        else if (beta == 1f) Vector512.Store(Vector512.Load(c) + acc, c);
        else Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c), Vector512.Create(beta), acc), c);
    }
}
