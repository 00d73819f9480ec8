using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CrossModal.Tensors.Kernels;

// Packing: copies a block of op(A) (times alpha) and of op(B) into the panel layouts the micro-kernels stream:
//   A block [mc x kc] -> ceil(mc / Mr) panels, each kc steps of Mr floats (rows beyond mc are zero);
//   B block [kc x nc] -> ceil(nc / Nr) panels, each kc steps of Nr floats (columns beyond nc are zero).
// Packing is O(mc*kc + kc*nc) against O(mc*nc*kc) arithmetic, but a scalar transposing pack still costs ~20% on
// skinny shapes, so the two transposing cases (A not transposed, B transposed) go through in-register transposes
// (16 x 16 on the AVX-512 path, 8 x 8 on the AVX2 path). The other layouts are vector copies that walk the source
// rows in order (chunks of PackChunk rows per panel), at both widths.
public static unsafe partial class Gemm
{
    /// <summary>
    /// Rows of the source copied per panel before moving to the next panel: each panel receives a few whole lines
    /// while the source rows stay in L1. Walking one row across all panels instead writes at the panel stride
    /// (12 or 40 KB, multiples of 4 KB), where the writes collide in the same L1 sets: 3-7x slower.
    /// </summary>
    private const int PackChunk = 8;

    /// <summary>Packs rows [i0, i0 + mc) and depth [p0, p0 + kc) of alpha * op(A) into Mr-row panels at dst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackA(bool transA, float* a, int lda, float alpha, int i0, int mc, int p0, int kc, float* dst)
    {
        int mr = Mr;
        int fullPanels = Kind == Isa.Scalar ? 0 : mc / mr;
        if (transA && fullPanels > 0)
        {
            // Stored rows of A are contiguous along m: walk each once and deal its Mr-float pieces to the panels.
            float* src = a + (long)p0 * lda + i0;
            if (Kind == Isa.Avx512) PackATransposed12(src, lda, alpha, kc, fullPanels, dst);
            else PackATransposed6(src, lda, alpha, kc, fullPanels, dst);
        }
        else if (fullPanels > 0)
        {
            for (int q = 0; q < fullPanels; q++)
            {
                float* src = a + (long)(i0 + q * mr) * lda + p0;
                float* d = dst + (long)q * mr * kc;
                if (Kind == Isa.Avx512) PackAPanelRows12(src, lda, alpha, kc, d);
                else PackAPanelRows6(src, lda, alpha, kc, d);
            }
        }
        // The partial last panel (and every panel of the scalar path) element by element, zero-padded.
        for (int ir = fullPanels * mr; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* d0 = dst + (long)ir * kc;
            for (int p = 0; p < kc; p++)
            {
                float* d = d0 + (long)p * mr;
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackB(bool transB, float* b, int ldb, int p0, int kc, int j0, int nc, float* dst)
    {
        int nr = Nr;
        int jr = 0;
        if (!transB && Kind != Isa.Scalar && nc >= nr)
        {
            // Rows of B are contiguous along n: walk each row once (what the hardware prefetcher follows best) and
            // deal its Nr-float pieces (32 or 16) to the panels. Panel by panel instead reads a column strip of
            // kc rows at the row stride (often a multiple of 4 KB): 1.7x slower packing at 256 bits on Zen 5.
            int panels = nc / nr;
            for (int pb = 0; pb < kc; pb += PackChunk)
            {
                int pe = Math.Min(kc, pb + PackChunk);
                for (int q = 0; q < panels; q++)
                {
                    float* src = b + (long)(p0 + pb) * ldb + j0 + q * nr;
                    float* d = dst + (long)q * nr * kc + (long)pb * nr;
                    if (Kind == Isa.Avx512)
                    {
                        for (int p = pb; p < pe; p++, src += ldb, d += 32)
                        {
                            Vector512.Store(Vector512.Load(src), d);
                            Vector512.Store(Vector512.Load(src + 16), d + 16);
                        }
                    }
                    else
                    {
                        for (int p = pb; p < pe; p++, src += ldb, d += 16)
                        {
                            Vector256.Store(Vector256.Load(src), d);
                            Vector256.Store(Vector256.Load(src + 8), d + 8);
                        }
                    }
                }
            }
            jr = panels * nr;
            dst += (long)jr * kc;
        }
        for (; jr < nc; jr += nr, dst += (long)nr * kc)
            PackBPanel(transB, b, ldb, p0, kc, j0 + jr, Math.Min(nr, nc - jr), dst);
    }

    /// <summary>One Nr-column panel of op(B): columns [j, j + cols), zero beyond cols.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        if (cols == nr && Kind == Isa.Avx2 && transB)
        {
            PackBTransposedAvx2(b + (long)j * ldb + p0, ldb, kc, dst);
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackAPanelRows12(float* a, int lda, float alpha, int kc, float* dst)
    {
        var scale = Vector512.Create(alpha);
        int p = 0;
        for (; p + 16 <= kc; p += 16) Transpose16(a + p, lda, 12, scale, dst + (long)p * 12, 12);
        for (; p < kc; p++)
            for (int i = 0; i < 12; i++) dst[(long)p * 12 + i] = alpha * a[(long)i * lda + p];
    }

    /// <summary>A transposed: each panel step is 12 contiguous floats of a stored row of A; rows are walked once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackATransposed12(float* a, int lda, float alpha, int kc, int panels, float* dst)
    {
        var s8 = Vector256.Create(alpha);
        var s4 = Vector128.Create(alpha);
        for (int pb = 0; pb < kc; pb += PackChunk)
        {
            int pe = Math.Min(kc, pb + PackChunk);
            for (int q = 0; q < panels; q++)
            {
                float* src = a + (long)pb * lda + q * 12;
                float* d = dst + (long)q * 12 * kc + (long)pb * 12;
                for (int p = pb; p < pe; p++, src += lda, d += 12)
                {
                    Vector256.Store(Vector256.Load(src) * s8, d);
                    Vector128.Store(Vector128.Load(src + 8) * s4, d + 8);
                }
            }
        }
    }

    /// <summary>
    /// B transposed: 16 stored rows of B (16 columns of op(B)), contiguous along k, become the 16-float half of
    /// each 32-float panel step, 16 k-values at a time through a register transpose. (Doing both halves in one
    /// pass was slower: 32 source rows with a 4 KB stride conflict in L1.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBTransposedHalf16(float* b, int ldb, int kc, float* dst)
    {
        var one = Vector512.Create(1f);
        int p = 0;
        for (; p + 16 <= kc; p += 16) Transpose16(b + p, ldb, 16, one, dst + (long)p * 32, 32);
        for (; p < kc; p++)
            for (int i = 0; i < 16; i++) dst[(long)p * 32 + i] = b[(long)i * ldb + p];
    }

    /// <summary>
    /// Loads 16 k-values of 16 rows (row i at src + i * ld; rows at or past <paramref name="rows"/> read as zero),
    /// transposes them in registers and stores the 16 resulting k-steps at dst + q * dstStride: all 16 floats, or 8 + 4
    /// when <paramref name="rows"/> is 12 (an A panel). Four rounds: interleave pairs of rows (32-bit), then pairs of
    /// pairs (64-bit), after which 128-bit lane L of u[4g + q] holds column 4L + q of rows 4g..4g+3; two rounds of
    /// 128-bit lane shuffles gather the four lanes of each column. 64 shuffles per 256 floats, all in registers (one call per 256 floats, so it is not inlined).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose16(float* src, nint ld, int rows, Vector512<float> scale, float* dst, nint dstStride)
    {
        var r0 = Vector512.Load(src + 0 * ld) * scale;
        var r1 = Vector512.Load(src + 1 * ld) * scale;
        var r2 = Vector512.Load(src + 2 * ld) * scale;
        var r3 = Vector512.Load(src + 3 * ld) * scale;
        var r4 = Vector512.Load(src + 4 * ld) * scale;
        var r5 = Vector512.Load(src + 5 * ld) * scale;
        var r6 = Vector512.Load(src + 6 * ld) * scale;
        var r7 = Vector512.Load(src + 7 * ld) * scale;
        var r8 = Vector512.Load(src + 8 * ld) * scale;
        var r9 = Vector512.Load(src + 9 * ld) * scale;
        var r10 = Vector512.Load(src + 10 * ld) * scale;
        var r11 = Vector512.Load(src + 11 * ld) * scale;
        var r12 = rows > 12 ? Vector512.Load(src + 12 * ld) * scale : default;
        var r13 = rows > 12 ? Vector512.Load(src + 13 * ld) * scale : default;
        var r14 = rows > 12 ? Vector512.Load(src + 14 * ld) * scale : default;
        var r15 = rows > 12 ? Vector512.Load(src + 15 * ld) * scale : default;
        var t0 = Avx512F.UnpackLow(r0, r1).AsDouble();
        var t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        var t2 = Avx512F.UnpackLow(r2, r3).AsDouble();
        var t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        var u0 = Avx512F.UnpackLow(t0, t2).AsSingle();
        var u1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        var u2 = Avx512F.UnpackLow(t1, t3).AsSingle();
        var u3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
        var t4 = Avx512F.UnpackLow(r4, r5).AsDouble();
        var t5 = Avx512F.UnpackHigh(r4, r5).AsDouble();
        var t6 = Avx512F.UnpackLow(r6, r7).AsDouble();
        var t7 = Avx512F.UnpackHigh(r6, r7).AsDouble();
        var u4 = Avx512F.UnpackLow(t4, t6).AsSingle();
        var u5 = Avx512F.UnpackHigh(t4, t6).AsSingle();
        var u6 = Avx512F.UnpackLow(t5, t7).AsSingle();
        var u7 = Avx512F.UnpackHigh(t5, t7).AsSingle();
        var t8 = Avx512F.UnpackLow(r8, r9).AsDouble();
        var t9 = Avx512F.UnpackHigh(r8, r9).AsDouble();
        var t10 = Avx512F.UnpackLow(r10, r11).AsDouble();
        var t11 = Avx512F.UnpackHigh(r10, r11).AsDouble();
        var u8 = Avx512F.UnpackLow(t8, t10).AsSingle();
        var u9 = Avx512F.UnpackHigh(t8, t10).AsSingle();
        var u10 = Avx512F.UnpackLow(t9, t11).AsSingle();
        var u11 = Avx512F.UnpackHigh(t9, t11).AsSingle();
        var t12 = Avx512F.UnpackLow(r12, r13).AsDouble();
        var t13 = Avx512F.UnpackHigh(r12, r13).AsDouble();
        var t14 = Avx512F.UnpackLow(r14, r15).AsDouble();
        var t15 = Avx512F.UnpackHigh(r14, r15).AsDouble();
        var u12 = Avx512F.UnpackLow(t12, t14).AsSingle();
        var u13 = Avx512F.UnpackHigh(t12, t14).AsSingle();
        var u14 = Avx512F.UnpackLow(t13, t15).AsSingle();
        var u15 = Avx512F.UnpackHigh(t13, t15).AsSingle();
        var e0a = Avx512F.Shuffle4x128(u0, u4, 0x88);
        var o0a = Avx512F.Shuffle4x128(u0, u4, 0xDD);
        var e0b = Avx512F.Shuffle4x128(u8, u12, 0x88);
        var o0b = Avx512F.Shuffle4x128(u8, u12, 0xDD);
        Put(dst + 0 * dstStride, Avx512F.Shuffle4x128(e0a, e0b, 0x88), rows);
        Put(dst + 4 * dstStride, Avx512F.Shuffle4x128(o0a, o0b, 0x88), rows);
        Put(dst + 8 * dstStride, Avx512F.Shuffle4x128(e0a, e0b, 0xDD), rows);
        Put(dst + 12 * dstStride, Avx512F.Shuffle4x128(o0a, o0b, 0xDD), rows);
        var e1a = Avx512F.Shuffle4x128(u1, u5, 0x88);
        var o1a = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        var e1b = Avx512F.Shuffle4x128(u9, u13, 0x88);
        var o1b = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        Put(dst + 1 * dstStride, Avx512F.Shuffle4x128(e1a, e1b, 0x88), rows);
        Put(dst + 5 * dstStride, Avx512F.Shuffle4x128(o1a, o1b, 0x88), rows);
        Put(dst + 9 * dstStride, Avx512F.Shuffle4x128(e1a, e1b, 0xDD), rows);
        Put(dst + 13 * dstStride, Avx512F.Shuffle4x128(o1a, o1b, 0xDD), rows);
        var e2a = Avx512F.Shuffle4x128(u2, u6, 0x88);
        var o2a = Avx512F.Shuffle4x128(u2, u6, 0xDD);
        var e2b = Avx512F.Shuffle4x128(u10, u14, 0x88);
        var o2b = Avx512F.Shuffle4x128(u10, u14, 0xDD);
        Put(dst + 2 * dstStride, Avx512F.Shuffle4x128(e2a, e2b, 0x88), rows);
        Put(dst + 6 * dstStride, Avx512F.Shuffle4x128(o2a, o2b, 0x88), rows);
        Put(dst + 10 * dstStride, Avx512F.Shuffle4x128(e2a, e2b, 0xDD), rows);
        Put(dst + 14 * dstStride, Avx512F.Shuffle4x128(o2a, o2b, 0xDD), rows);
        var e3a = Avx512F.Shuffle4x128(u3, u7, 0x88);
        var o3a = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        var e3b = Avx512F.Shuffle4x128(u11, u15, 0x88);
        var o3b = Avx512F.Shuffle4x128(u11, u15, 0xDD);
        Put(dst + 3 * dstStride, Avx512F.Shuffle4x128(e3a, e3b, 0x88), rows);
        Put(dst + 7 * dstStride, Avx512F.Shuffle4x128(o3a, o3b, 0x88), rows);
        Put(dst + 11 * dstStride, Avx512F.Shuffle4x128(e3a, e3b, 0xDD), rows);
        Put(dst + 15 * dstStride, Avx512F.Shuffle4x128(o3a, o3b, 0xDD), rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* dst, Vector512<float> v, int rows)
    {
        if (rows > 12)
        {
            Vector512.Store(v, dst);
        }
        else
        {
            Vector256.Store(v.GetLower(), dst);
            Vector128.Store(v.GetUpper().GetLower(), dst + 8);
        }
    }


    /// <summary>
    /// AVX2 twin of <see cref="PackAPanelRows12"/>: 6 rows of A, contiguous along k, become kc steps of 6 floats,
    /// 8 k-values at a time through an 8 x 8 register transpose (2 zero rows), stored straight into the panel as
    /// 4 + 2 floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackAPanelRows6(float* a, int lda, float alpha, int kc, float* dst)
    {
        var scale = Vector256.Create(alpha);
        int p = 0;
        for (; p + 8 <= kc; p += 8) Transpose8(a + p, lda, 6, scale, dst + (long)p * 6, 6, 6);
        for (; p < kc; p++)
            for (int i = 0; i < 6; i++) dst[(long)p * 6 + i] = alpha * a[(long)i * lda + p];
    }

    /// <summary>
    /// A transposed, 6-row panels: each panel step is 6 contiguous floats of a stored row of A, copied as two
    /// overlapping 4-float vectors ([0, 4) and [2, 6)); rows are walked once, PackChunk at a time per panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackATransposed6(float* a, int lda, float alpha, int kc, int panels, float* dst)
    {
        var s4 = Vector128.Create(alpha);
        for (int pb = 0; pb < kc; pb += PackChunk)
        {
            int pe = Math.Min(kc, pb + PackChunk);
            for (int q = 0; q < panels; q++)
            {
                float* src = a + (long)pb * lda + q * 6;
                float* d = dst + (long)q * 6 * kc + (long)pb * 6;
                for (int p = pb; p < pe; p++, src += lda, d += 6)
                {
                    var head = Vector128.Load(src) * s4;
                    var tail = Vector128.Load(src + 2) * s4;
                    Vector128.Store(head, d);
                    Vector128.Store(tail, d + 2);
                }
            }
        }
    }

    /// <summary>
    /// AVX2 twin of <see cref="PackBTransposedHalf16"/>: 16 stored rows of B into 16-float panel steps, one half
    /// (8 rows) at a time through 8 x 8 transposes. Each transpose reads half a cache line of each row and the next
    /// one the other half; with all 16 rows in flight, rows 4 KB apart (k = 1024) share one L1 set, which has only
    /// 8 ways on Zen 3 (12 on Zen 5), so the lines were evicted between the two halves and fetched twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBTransposedAvx2(float* b, int ldb, int kc, float* dst)
    {
        var one = Vector256.Create(1f);
        for (int half = 0; half < 16; half += 8)
        {
            float* rows = b + (long)half * ldb;
            int p = 0;
            for (; p + 8 <= kc; p += 8) Transpose8(rows + p, ldb, 8, one, dst + (long)p * 16 + half, 16, 8);
            for (; p < kc; p++)
                for (int i = 0; i < 8; i++) dst[(long)p * 16 + half + i] = rows[(long)i * ldb + p];
        }
    }

    /// <summary>
    /// 8 x 8 register transpose (AVX): 8 k-values of 8 rows (rows at or past <paramref name="rows"/> read as zero)
    /// become 8 k-steps at dst + q * dstStride, each storing its first <paramref name="width"/> floats (8, 6 or 4).
    /// Interleave pairs (32-bit), pairs of pairs (64-bit), then swap 128-bit halves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose8(float* src, nint ld, int rows, Vector256<float> scale, float* dst, nint dstStride, int width)
    {
        var r0 = Vector256.Load(src) * scale;
        var r1 = rows > 1 ? Vector256.Load(src + ld) * scale : default;
        var r2 = rows > 2 ? Vector256.Load(src + 2 * ld) * scale : default;
        var r3 = rows > 3 ? Vector256.Load(src + 3 * ld) * scale : default;
        var r4 = rows > 4 ? Vector256.Load(src + 4 * ld) * scale : default;
        var r5 = rows > 5 ? Vector256.Load(src + 5 * ld) * scale : default;
        var r6 = rows > 6 ? Vector256.Load(src + 6 * ld) * scale : default;
        var r7 = rows > 7 ? Vector256.Load(src + 7 * ld) * scale : default;
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Put(dst, Avx.Permute2x128(u0, u4, 0x20), width);
        Put(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20), width);
        Put(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20), width);
        Put(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20), width);
        Put(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31), width);
        Put(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31), width);
        Put(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31), width);
        Put(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31), width);
    }

    /// <summary>Stores the first <paramref name="width"/> (8, 6 or 4) floats of <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* dst, Vector256<float> v, int width)
    {
        if (width == 8)
        {
            Vector256.Store(v, dst);
            return;
        }
        Vector128.Store(v.GetLower(), dst);
        if (width == 6) Sse2.StoreScalar((double*)(dst + 4), v.GetUpper().AsDouble());
    }
}
