using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CrossModal.Tensors.Kernels;

// Packing: copies a block of op(A) (times alpha) and of op(B) into the panel layouts the micro-kernels stream:
//   A block [mc x kc] -> ceil(mc / Mr) panels, each kc steps of Mr floats (rows beyond mc are zero);
//   B block [kc x nc] -> ceil(nc / Nr) panels, each kc steps of Nr floats (columns beyond nc are zero).
// Packing is O(mc*kc + kc*nc) against O(mc*nc*kc) arithmetic, but a scalar transposing pack still costs ~20% on
// skinny shapes, so the two transposing cases (A not transposed, B transposed) go through 16 x 16 in-register
// transposes on the AVX-512 path. The other layouts are contiguous copies.
public static unsafe partial class Gemm
{
    /// <summary>Packs rows [i0, i0 + mc) and depth [p0, p0 + kc) of alpha * op(A) into Mr-row panels at dst.</summary>
    private static void PackA(bool transA, float* a, int lda, float alpha, int i0, int mc, int p0, int kc, float* dst)
    {
        int mr = Mr;
        for (int ir = 0; ir < mc; ir += mr, dst += (long)mr * kc)
        {
            int rows = Math.Min(mr, mc - ir);
            if (Kind == Isa.Avx512 && rows == Mr512)
            {
                if (transA) PackAPanelTransposed12(a + (long)p0 * lda + i0 + ir, lda, alpha, kc, dst);
                else PackAPanelRows12(a + (long)(i0 + ir) * lda + p0, lda, alpha, kc, dst);
                continue;
            }
            for (int p = 0; p < kc; p++)
            {
                float* d = dst + (long)p * mr;
                for (int ii = 0; ii < rows; ii++)
                {
                    long at = transA ? (long)(p0 + p) * lda + i0 + ir + ii : (long)(i0 + ir + ii) * lda + p0 + p;
                    d[ii] = alpha * a[at];
                }
                for (int ii = rows; ii < mr; ii++) d[ii] = 0f;
            }
        }
    }

    /// <summary>Packs depth [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) into Nr-column panels at dst.</summary>
    private static void PackB(bool transB, float* b, int ldb, int p0, int kc, int j0, int nc, float* dst)
    {
        int nr = Nr;
        for (int jr = 0; jr < nc; jr += nr, dst += (long)nr * kc)
            PackBPanel(transB, b, ldb, p0, kc, j0 + jr, Math.Min(nr, nc - jr), dst);
    }

    /// <summary>One Nr-column panel of op(B): columns [j, j + cols), zero beyond cols.</summary>
    private static void PackBPanel(bool transB, float* b, int ldb, int p0, int kc, int j, int cols, float* dst)
    {
        int nr = Nr;
        if (cols == nr && Kind == Isa.Avx512)
        {
            if (transB)
            {
                PackBTransposedHalf16(b + (long)j * ldb + p0, ldb, kc, dst);
                PackBTransposedHalf16(b + (long)(j + 16) * ldb + p0, ldb, kc, dst + 16);
            }
            else
            {
                float* src = b + (long)p0 * ldb + j;
                for (int p = 0; p < kc; p++, src += ldb, dst += 32)
                {
                    Vector512.Store(Vector512.Load(src), dst);
                    Vector512.Store(Vector512.Load(src + 16), dst + 16);
                }
            }
            return;
        }
        if (cols == nr && Kind == Isa.Avx2 && !transB)
        {
            float* src = b + (long)p0 * ldb + j;
            for (int p = 0; p < kc; p++, src += ldb, dst += 16)
            {
                Vector256.Store(Vector256.Load(src), dst);
                Vector256.Store(Vector256.Load(src + 8), dst + 8);
            }
            return;
        }
        for (int p = 0; p < kc; p++)
        {
            float* d = dst + (long)p * nr;
            for (int jj = 0; jj < cols; jj++)
                d[jj] = transB ? b[(long)(j + jj) * ldb + p0 + p] : b[(long)(p0 + p) * ldb + j + jj];
            for (int jj = cols; jj < nr; jj++) d[jj] = 0f;
        }
    }

    /// <summary>
    /// A not transposed: 12 rows of A, each contiguous along k, become kc steps of 12 floats. 16 k-values of the
    /// 12 rows (plus 4 zero rows) are transposed in registers; each output step stores 8 + 4 floats.
    /// </summary>
    private static void PackAPanelRows12(float* a, int lda, float alpha, int kc, float* dst)
    {
        var scale = Vector512.Create(alpha);
        Span<Vector512<float>> r = stackalloc Vector512<float>[16];
        int p = 0;
        for (; p + 16 <= kc; p += 16)
        {
            for (int i = 0; i < 12; i++) r[i] = Vector512.Load(a + (long)i * lda + p) * scale;
            for (int i = 12; i < 16; i++) r[i] = default;
            Transpose16x16(r);
            float* d = dst + (long)p * 12;
            for (int q = 0; q < 16; q++, d += 12)
            {
                Vector256.Store(r[q].GetLower(), d);
                Vector128.Store(r[q].GetUpper().GetLower(), d + 8);
            }
        }
        for (; p < kc; p++)
            for (int i = 0; i < 12; i++) dst[(long)p * 12 + i] = alpha * a[(long)i * lda + p];
    }

    /// <summary>A transposed: the 12 rows of a panel are 12 contiguous floats of each stored row of A.</summary>
    private static void PackAPanelTransposed12(float* a, int lda, float alpha, int kc, float* dst)
    {
        var s8 = Vector256.Create(alpha);
        var s4 = Vector128.Create(alpha);
        for (int p = 0; p < kc; p++, a += lda, dst += 12)
        {
            Vector256.Store(Vector256.Load(a) * s8, dst);
            Vector128.Store(Vector128.Load(a + 8) * s4, dst + 8);
        }
    }

    /// <summary>
    /// B transposed: 16 stored rows of B (16 columns of op(B)), contiguous along k, become the 16-float half of
    /// each 32-float panel step, 16 k-values at a time through a register transpose.
    /// </summary>
    private static void PackBTransposedHalf16(float* b, int ldb, int kc, float* dst)
    {
        Span<Vector512<float>> r = stackalloc Vector512<float>[16];
        int p = 0;
        for (; p + 16 <= kc; p += 16)
        {
            for (int i = 0; i < 16; i++) r[i] = Vector512.Load(b + (long)i * ldb + p);
            Transpose16x16(r);
            float* d = dst + (long)p * 32;
            for (int q = 0; q < 16; q++, d += 32) Vector512.Store(r[q], d);
        }
        for (; p < kc; p++)
            for (int i = 0; i < 16; i++) dst[(long)p * 32 + i] = b[(long)i * ldb + p];
    }

    /// <summary>
    /// In-register 16 x 16 transpose: r[i][j] becomes r[j][i]. Four rounds: interleave pairs of rows (32-bit), then
    /// pairs of pairs (64-bit), after which 128-bit lane L of u[4g + q] holds column 4L + q of rows 4g..4g+3; two
    /// rounds of 128-bit lane shuffles then gather the four lanes of each column. 64 shuffles per 256 elements.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16x16(Span<Vector512<float>> r)
    {
        Span<Vector512<float>> u = stackalloc Vector512<float>[16];
        for (int g = 0; g < 4; g++)
        {
            var t0 = Avx512F.UnpackLow(r[4 * g], r[4 * g + 1]).AsDouble();
            var t1 = Avx512F.UnpackHigh(r[4 * g], r[4 * g + 1]).AsDouble();
            var t2 = Avx512F.UnpackLow(r[4 * g + 2], r[4 * g + 3]).AsDouble();
            var t3 = Avx512F.UnpackHigh(r[4 * g + 2], r[4 * g + 3]).AsDouble();
            u[4 * g] = Avx512F.UnpackLow(t0, t2).AsSingle();
            u[4 * g + 1] = Avx512F.UnpackHigh(t0, t2).AsSingle();
            u[4 * g + 2] = Avx512F.UnpackLow(t1, t3).AsSingle();
            u[4 * g + 3] = Avx512F.UnpackHigh(t1, t3).AsSingle();
        }
        for (int q = 0; q < 4; q++)
        {
            // Lanes (L0, L2) and (L1, L3) of row groups 0,1 and 2,3.
            var e01 = Avx512F.Shuffle4x128(u[q], u[4 + q], 0x88);
            var o01 = Avx512F.Shuffle4x128(u[q], u[4 + q], 0xDD);
            var e23 = Avx512F.Shuffle4x128(u[8 + q], u[12 + q], 0x88);
            var o23 = Avx512F.Shuffle4x128(u[8 + q], u[12 + q], 0xDD);
            r[q] = Avx512F.Shuffle4x128(e01, e23, 0x88);
            r[4 + q] = Avx512F.Shuffle4x128(o01, o23, 0x88);
            r[8 + q] = Avx512F.Shuffle4x128(e01, e23, 0xDD);
            r[12 + q] = Avx512F.Shuffle4x128(o01, o23, 0xDD);
        }
    }
}
