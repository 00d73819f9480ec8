using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CrossModal.Tensors.Threading;

namespace CrossModal.Tensors.Kernels;

// Very skinny products: a handful of rows against a transposed B (one query against a matrix of rows), or a
// handful of columns against an untransposed A (a matrix times a few vectors). The blocked path would pad the
// short side to a whole 12 x 32 tile (up to 32x wasted arithmetic) and pack the long operand, when all the work
// needs is to stream the long operand once. Here every element of C is a dot product of two rows that are
// contiguous along k, computed 4 x 4 at a time (16 zmm accumulators, 8 loads per 16 FMAs; at 256 bits, with 16
// ymm registers, as two 4 x 2 halves: 8 accumulators, 6 loads per 8 FMAs). The short operand is gathered into rows
// along k if it is not stored that way (it is small by definition). The scalar width takes the blocked path. The
// choice depends only on the shape, so results stay deterministic and identical for any thread count (each element
// is computed by one thread, the same way).
public static unsafe partial class Gemm
{
    /// <summary>At most this many rows (with B transposed) or columns (with A not transposed) take the dot path.</summary>
    private const int DotMaxShort = 8;

    /// <summary>Whether the dot-product path handles this shape.</summary>
    internal static bool UsesDotPath(bool transA, bool transB, int m, int n, int k) =>
        Kind != Isa.Scalar && k >= 16 && ((transB && m <= DotMaxShort && n > m) || (!transA && n <= DotMaxShort && m > n));

    private static void MultiplyDot(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        // Rows along k of op(A) [m x k] and of op(B)^T [n x k]; the short one may need gathering (into this
        // thread's packing buffer: no allocation).
        float* rowsA = a, rowsB = b;
        int ldRowsA = lda, ldRowsB = ldb;
        bool shortIsA = transB && m <= DotMaxShort && n > m;
        if (shortIsA && transA)
        {
            float* g = PackBuffers.ForThisThread((long)m * k, 0).A;
            for (int p = 0; p < k; p++)
                for (int i = 0; i < m; i++) g[(long)i * k + p] = a[(long)p * lda + i];
            rowsA = g;
            ldRowsA = k;
        }
        else if (!shortIsA && !transB)
        {
            float* g = PackBuffers.ForThisThread((long)n * k, 0).A;
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++) g[(long)j * k + p] = b[(long)p * ldb + j];
            rowsB = g;
            ldRowsB = k;
        }
        // Groups of 4 along the long side, split across threads.
        var job = new DotJob((nint)rowsA, ldRowsA, (nint)rowsB, ldRowsB, (nint)c, ldc, k, alpha, beta, shortIsA,
            shortIsA ? n : m, shortIsA ? m : n);
        int groups = (job.LongSide + 3) / 4;
        int minGroups = (int)Math.Max(1, ParallelMinMacs / Math.Max(1L, 4L * job.ShortSide * k));
        if ((long)m * n * k < ParallelMinMacs || Parallelism.ChunkCount(groups, minGroups) == 1) DotGroups(in job, 0, groups);
        else DotGroupsParallel(job, groups, minGroups);
    }

    /// <summary>The dot path's operands: rows along k of op(A) and of op(B)^T, and which of them is the short one.</summary>
    private readonly record struct DotJob(nint RowsA, int LdA, nint RowsB, int LdB, nint C, int Ldc, int K, float Alpha,
        float Beta, bool ShortIsA, int LongSide, int ShortSide);

    private static void DotGroupsParallel(DotJob job, int groups, int minGroups) =>
        Parallelism.For(groups, minGroups, (g0, g1) => DotGroups(in job, g0, g1));

    /// <summary>Groups [g0, g1) of 4 rows of the long operand against all rows of the short one.</summary>
    private static void DotGroups(in DotJob job, int g0, int g1)
    {
        float* blockOut = stackalloc float[16];
        float* ra = (float*)job.RowsA, rb = (float*)job.RowsB, c = (float*)job.C;
        for (int g = g0; g < g1; g++)
        {
            int l0 = 4 * g, lc = Math.Min(4, job.LongSide - l0);
            for (int s0 = 0; s0 < job.ShortSide; s0 += 4)
            {
                int sc = Math.Min(4, job.ShortSide - s0);
                int i0 = job.ShortIsA ? s0 : l0, ic = job.ShortIsA ? sc : lc;
                int j0 = job.ShortIsA ? l0 : s0, jc = job.ShortIsA ? lc : sc;
                float* rowsA = ra + (long)i0 * job.LdA, rowsB = rb + (long)j0 * job.LdB;
                if (Kind == Isa.Avx512) Dot4x4(rowsA, job.LdA, ic, rowsB, job.LdB, jc, job.K, blockOut);
                else
                {
                    // 4 long rows against short rows s0, s0 + 1, then s0 + 2, s0 + 3: the long rows stream from
                    // memory once (4 streams, as at 512 bits) and are re-read from L1 for the second pair.
                    float* longRows = job.ShortIsA ? rowsB : rowsA, shortRows = job.ShortIsA ? rowsA : rowsB;
                    nint ldLong = job.ShortIsA ? job.LdB : job.LdA, ldShort = job.ShortIsA ? job.LdA : job.LdB;
                    int strideLong = job.ShortIsA ? 1 : 4, strideShort = job.ShortIsA ? 4 : 1;
                    Dot4x2(longRows, ldLong, lc, shortRows, ldShort, Math.Min(2, sc), job.K, blockOut, strideLong, strideShort);
                    if (sc > 2)
                        Dot4x2(longRows, ldLong, lc, shortRows + 2 * ldShort, ldShort, sc - 2, job.K, blockOut + 2 * strideShort,
                            strideLong, strideShort);
                }
                for (int i = 0; i < ic; i++)
                {
                    float* crow = c + (long)(i0 + i) * job.Ldc + j0;
                    for (int j = 0; j < jc; j++) crow[j] = UpdateScalar(crow[j], job.Alpha * blockOut[i * 4 + j], job.Beta);
                }
            }
        }
    }

    /// <summary>
    /// out[i * 4 + j] = dot(a_i, b_j) for i &lt; rowsA, j &lt; rowsB (rows contiguous along k, strides lda/ldb). Missing
    /// rows repeat row 0 (their results are ignored), so the loop always runs 16 accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x4(float* a, nint lda, int rowsA, float* b, nint ldb, int rowsB, int k, float* output)
    {
        float* a0 = a, a1 = rowsA > 1 ? a + lda : a, a2 = rowsA > 2 ? a + 2 * lda : a, a3 = rowsA > 3 ? a + 3 * lda : a;
        float* b0 = b, b1 = rowsB > 1 ? b + ldb : b, b2 = rowsB > 2 ? b + 2 * ldb : b, b3 = rowsB > 3 ? b + 3 * ldb : b;
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default;
        Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            var vb0 = Vector512.Load(b0 + p);
            var vb1 = Vector512.Load(b1 + p);
            var vb2 = Vector512.Load(b2 + p);
            var vb3 = Vector512.Load(b3 + p);
            var va = Vector512.Load(a0 + p);
            s00 = Vector512.FusedMultiplyAdd(va, vb0, s00);
            s01 = Vector512.FusedMultiplyAdd(va, vb1, s01);
            s02 = Vector512.FusedMultiplyAdd(va, vb2, s02);
            s03 = Vector512.FusedMultiplyAdd(va, vb3, s03);
            va = Vector512.Load(a1 + p);
            s10 = Vector512.FusedMultiplyAdd(va, vb0, s10);
            s11 = Vector512.FusedMultiplyAdd(va, vb1, s11);
            s12 = Vector512.FusedMultiplyAdd(va, vb2, s12);
            s13 = Vector512.FusedMultiplyAdd(va, vb3, s13);
            va = Vector512.Load(a2 + p);
            s20 = Vector512.FusedMultiplyAdd(va, vb0, s20);
            s21 = Vector512.FusedMultiplyAdd(va, vb1, s21);
            s22 = Vector512.FusedMultiplyAdd(va, vb2, s22);
            s23 = Vector512.FusedMultiplyAdd(va, vb3, s23);
            va = Vector512.Load(a3 + p);
            s30 = Vector512.FusedMultiplyAdd(va, vb0, s30);
            s31 = Vector512.FusedMultiplyAdd(va, vb1, s31);
            s32 = Vector512.FusedMultiplyAdd(va, vb2, s32);
            s33 = Vector512.FusedMultiplyAdd(va, vb3, s33);
        }
        output[0] = Vector512.Sum(s00); output[1] = Vector512.Sum(s01); output[2] = Vector512.Sum(s02); output[3] = Vector512.Sum(s03);
        output[4] = Vector512.Sum(s10); output[5] = Vector512.Sum(s11); output[6] = Vector512.Sum(s12); output[7] = Vector512.Sum(s13);
        output[8] = Vector512.Sum(s20); output[9] = Vector512.Sum(s21); output[10] = Vector512.Sum(s22); output[11] = Vector512.Sum(s23);
        output[12] = Vector512.Sum(s30); output[13] = Vector512.Sum(s31); output[14] = Vector512.Sum(s32); output[15] = Vector512.Sum(s33);
        for (; p < k; p++)
        {
            float x0 = a0[p], x1 = a1[p], x2 = a2[p], x3 = a3[p], y0 = b0[p], y1 = b1[p], y2 = b2[p], y3 = b3[p];
            output[0] = MathF.FusedMultiplyAdd(x0, y0, output[0]); output[1] = MathF.FusedMultiplyAdd(x0, y1, output[1]);
            output[2] = MathF.FusedMultiplyAdd(x0, y2, output[2]); output[3] = MathF.FusedMultiplyAdd(x0, y3, output[3]);
            output[4] = MathF.FusedMultiplyAdd(x1, y0, output[4]); output[5] = MathF.FusedMultiplyAdd(x1, y1, output[5]);
            output[6] = MathF.FusedMultiplyAdd(x1, y2, output[6]); output[7] = MathF.FusedMultiplyAdd(x1, y3, output[7]);
            output[8] = MathF.FusedMultiplyAdd(x2, y0, output[8]); output[9] = MathF.FusedMultiplyAdd(x2, y1, output[9]);
            output[10] = MathF.FusedMultiplyAdd(x2, y2, output[10]); output[11] = MathF.FusedMultiplyAdd(x2, y3, output[11]);
            output[12] = MathF.FusedMultiplyAdd(x3, y0, output[12]); output[13] = MathF.FusedMultiplyAdd(x3, y1, output[13]);
            output[14] = MathF.FusedMultiplyAdd(x3, y2, output[14]); output[15] = MathF.FusedMultiplyAdd(x3, y3, output[15]);
        }
    }

    /// <summary>
    /// The 256-bit kernel: dot products of 4 long rows (x) with 2 short rows (y), all contiguous along k; 8 ymm
    /// accumulators (the 2 pipes x 4 cycles of FMA latency), 6 loads per 8 FMAs. Writes the dot of x_l and y_s to
    /// output[l * strideX + s * strideY] for l &lt; rowsX, s &lt; rowsY (at most 2): the caller's 4 x 4 layout whichever
    /// operand is long. Missing rows repeat row 0 (their results are ignored).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x2(float* x, nint ldx, int rowsX, float* y, nint ldy, int rowsY, int k, float* output,
        int strideX, int strideY)
    {
        float* x0 = x, x1 = rowsX > 1 ? x + ldx : x, x2 = rowsX > 2 ? x + 2 * ldx : x, x3 = rowsX > 3 ? x + 3 * ldx : x;
        float* y0 = y, y1 = rowsY > 1 ? y + ldy : y;
        Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default;
        Vector256<float> s20 = default, s21 = default, s30 = default, s31 = default;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            var vy0 = Vector256.Load(y0 + p);
            var vy1 = Vector256.Load(y1 + p);
            var vx = Vector256.Load(x0 + p);
            s00 = Vector256.FusedMultiplyAdd(vx, vy0, s00);
            s01 = Vector256.FusedMultiplyAdd(vx, vy1, s01);
            vx = Vector256.Load(x1 + p);
            s10 = Vector256.FusedMultiplyAdd(vx, vy0, s10);
            s11 = Vector256.FusedMultiplyAdd(vx, vy1, s11);
            vx = Vector256.Load(x2 + p);
            s20 = Vector256.FusedMultiplyAdd(vx, vy0, s20);
            s21 = Vector256.FusedMultiplyAdd(vx, vy1, s21);
            vx = Vector256.Load(x3 + p);
            s30 = Vector256.FusedMultiplyAdd(vx, vy0, s30);
            s31 = Vector256.FusedMultiplyAdd(vx, vy1, s31);
        }
        float d00 = Vector256.Sum(s00), d01 = Vector256.Sum(s01), d10 = Vector256.Sum(s10), d11 = Vector256.Sum(s11);
        float d20 = Vector256.Sum(s20), d21 = Vector256.Sum(s21), d30 = Vector256.Sum(s30), d31 = Vector256.Sum(s31);
        for (; p < k; p++)
        {
            float w0 = y0[p], w1 = y1[p];
            d00 = MathF.FusedMultiplyAdd(x0[p], w0, d00); d01 = MathF.FusedMultiplyAdd(x0[p], w1, d01);
            d10 = MathF.FusedMultiplyAdd(x1[p], w0, d10); d11 = MathF.FusedMultiplyAdd(x1[p], w1, d11);
            d20 = MathF.FusedMultiplyAdd(x2[p], w0, d20); d21 = MathF.FusedMultiplyAdd(x2[p], w1, d21);
            d30 = MathF.FusedMultiplyAdd(x3[p], w0, d30); d31 = MathF.FusedMultiplyAdd(x3[p], w1, d31);
        }
        output[0] = d00; output[strideY] = d01;
        output[strideX] = d10; output[strideX + strideY] = d11;
        output[2 * strideX] = d20; output[2 * strideX + strideY] = d21;
        output[3 * strideX] = d30; output[3 * strideX + strideY] = d31;
    }
}
