using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CrossModal.Tensors.Kernels;

// AVX2 + FMA micro-kernels (used when 512-bit vectors are not accelerated): C[rows x 16] (+)= A-panel * B-panel
// over kc steps, the same contract as the AVX-512 kernels. The A panel holds Mr256 (6) rows per k step (zero-padded
// at the edge), so the 4- and 2-row kernels read the same layout and only skip rows: an edge of 1-4 rows (m = 128
// leaves 2) costs its own rows, not a whole 6-row tile through the scratch tile. Every kernel computes each element
// of C as the same FMA chain in k order, so which kernel computes a tile never changes the result.
// Register budget (16 ymm, Zen 3 and Haswell): 6 x 16 uses 12 accumulators + 2 B vectors + 1 broadcast. Per k step
// 2 loads and 6 broadcasts feed 12 FMAs: 6 cycles on two FMA pipes, 1.3 loads per cycle, under Zen 3's limit of 2
// vector loads per cycle. 12 independent accumulators cover the 2 pipes x 4 cycles FMA latency.
// (This is OpenBLAS's Haswell/Zen sgemm register tile, 16 x 6 in its column-major terms.)
public static unsafe partial class Gemm
{
    /// <summary>6 x 16 block: 12 ymm accumulators; per k step two loads of B and 6 broadcasts of A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(nint kc, float* a, float* b, nint ldb, float* c, nint ldc, float beta)
    {
        // The C tile is read only after the k loop; fetching its lines now hides that latency behind the FMAs.
        for (int i = 0; i < 6; i++)
        {
            Sse.Prefetch0(c + i * ldc);
            Sse.Prefetch0(c + i * ldc + 15);
        }
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
        Update(c, lo5, beta); Update(c + 8, hi5, beta);
    }

    /// <summary>4 x 16 block: 8 ymm accumulators (exactly the 2 x 4 FMAs in flight the pipes need).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x16(nint kc, float* a, float* b, nint ldb, float* c, nint ldc, float beta)
    {
        for (int i = 0; i < 4; i++)
        {
            Sse.Prefetch0(c + i * ldc);
            Sse.Prefetch0(c + i * ldc + 15);
        }
        Vector256<float> lo0 = default, hi0 = default;
        Vector256<float> lo1 = default, hi1 = default;
        Vector256<float> lo2 = default, hi2 = default;
        Vector256<float> lo3 = default, hi3 = default;
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
            a += Mr256;
            b += ldb;
        }
        Update(c, lo0, beta); Update(c + 8, hi0, beta); c += ldc;
        Update(c, lo1, beta); Update(c + 8, hi1, beta); c += ldc;
        Update(c, lo2, beta); Update(c + 8, hi2, beta); c += ldc;
        Update(c, lo3, beta); Update(c + 8, hi3, beta);
    }

    /// <summary>2 x 16 block: 4 accumulators (latency-bound at half speed, but only for 1-2 leftover rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel2x16(nint kc, float* a, float* b, nint ldb, float* c, nint ldc, float beta)
    {
        Vector256<float> lo0 = default, hi0 = default;
        Vector256<float> lo1 = default, hi1 = default;
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
            a += Mr256;
            b += ldb;
        }
        Update(c, lo0, beta); Update(c + 8, hi0, beta); c += ldc;
        Update(c, lo1, beta); Update(c + 8, hi1, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* c, Vector256<float> acc, float beta)
    {
        if (beta == 0f) Vector256.Store(acc, c);
        else if (beta == 1f) Vector256.Store(Vector256.Load(c) + acc, c);
        else Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c), Vector256.Create(beta), acc), c);
    }
}
