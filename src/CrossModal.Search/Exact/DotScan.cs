using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossModal.Search.Exact;

/// <summary>
/// Float32 inner products of a block of gallery rows with a few queries: the single-query path of exact search,
/// where the work is one pass over the gallery at memory speed. Rows go four at a time against one query (four
/// independent FMA chains, the query's vector loaded once for four rows); further queries re-read the four rows
/// from L1. The widest accelerated vector is used (512, 256, 128 bits), with a scalar tail for dimensions that
/// are not a multiple of the width. Each score is one fixed summation order per width.
/// </summary>
internal static unsafe class DotScan
{
    private static readonly int Width = Vector512.IsHardwareAccelerated ? 512
        : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <summary>"v512", "v256", "v128" or "scalar": the kernel this process uses (tests and benchmarks print it).</summary>
    public static string KernelName => Width == 0 ? "scalar" : $"v{Width}";

    /// <summary>scores[r * nq + j] = x_r . query_j for rows r in [0, rows) of <paramref name="x"/> ([rows x d]) and queries [nq x d].</summary>
    public static void Scores(float* x, int rows, int d, float* queries, int nq, float* scores)
    {
        int r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            float* x0 = x + (long)r * d;
            for (int j = 0; j < nq; j++)
            {
                float* o = scores + (long)r * nq + j;
                Dot4(x0, d, queries + (long)j * d, o, nq);
            }
        }
        for (; r < rows; r++)
            for (int j = 0; j < nq; j++)
                scores[(long)r * nq + j] = DotSingle(x + (long)r * d, queries + (long)j * d, d);
    }

    /// <summary>The dot products of the four rows at <paramref name="x"/> (stride d) with <paramref name="q"/>, written at o[0], o[stride], ...</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4(float* x, int d, float* q, float* o, int stride)
    {
        float* x1 = x + d, x2 = x1 + d, x3 = x2 + d;
        int i = 0;
        float s0, s1, s2, s3;
        if (Width == 512)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 16 <= d; i += 16)
            {
                var qv = Vector512.Load(q + i);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), qv, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(x1 + i), qv, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(x2 + i), qv, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(x3 + i), qv, a3);
            }
            s0 = Vector512.Sum(a0); s1 = Vector512.Sum(a1); s2 = Vector512.Sum(a2); s3 = Vector512.Sum(a3);
        }
        else if (Width == 256)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 8 <= d; i += 8)
            {
                var qv = Vector256.Load(q + i);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), qv, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x1 + i), qv, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(x2 + i), qv, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(x3 + i), qv, a3);
            }
            s0 = Vector256.Sum(a0); s1 = Vector256.Sum(a1); s2 = Vector256.Sum(a2); s3 = Vector256.Sum(a3);
        }
        else if (Width == 128)
        {
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 4 <= d; i += 4)
            {
                var qv = Vector128.Load(q + i);
                // Vector128 without FMA hardware (SSE only) rounds the product: MultiplyAddEstimate picks what is fast.
                a0 = Vector128.MultiplyAddEstimate(Vector128.Load(x + i), qv, a0);
                a1 = Vector128.MultiplyAddEstimate(Vector128.Load(x1 + i), qv, a1);
                a2 = Vector128.MultiplyAddEstimate(Vector128.Load(x2 + i), qv, a2);
                a3 = Vector128.MultiplyAddEstimate(Vector128.Load(x3 + i), qv, a3);
            }
            s0 = Vector128.Sum(a0); s1 = Vector128.Sum(a1); s2 = Vector128.Sum(a2); s3 = Vector128.Sum(a3);
        }
        else
        {
            s0 = s1 = s2 = s3 = 0;
        }
        for (; i < d; i++)
        {
            float qi = q[i];
            s0 += x[i] * qi; s1 += x1[i] * qi; s2 += x2[i] * qi; s3 += x3[i] * qi;
        }
        o[0] = s0;
        o[stride] = s1;
        o[2 * stride] = s2;
        o[3 * stride] = s3;
    }

    /// <summary>
    /// One dot product (rows left over after the groups of four), with the same summation order as a row of a
    /// group, so a score does not depend on where its row fell in a block.
    /// </summary>
    internal static float DotSingle(float* x, float* q, int d)
    {
        int i = 0;
        float s;
        if (Width == 512)
        {
            Vector512<float> a = default;
            for (; i + 16 <= d; i += 16) a = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), Vector512.Load(q + i), a);
            s = Vector512.Sum(a);
        }
        else if (Width == 256)
        {
            Vector256<float> a = default;
            for (; i + 8 <= d; i += 8) a = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(q + i), a);
            s = Vector256.Sum(a);
        }
        else if (Width == 128)
        {
            Vector128<float> a = default;
            for (; i + 4 <= d; i += 4) a = Vector128.MultiplyAddEstimate(Vector128.Load(x + i), Vector128.Load(q + i), a);
            s = Vector128.Sum(a);
        }
        else s = 0;
        for (; i < d; i++) s += x[i] * q[i];
        return s;
    }
}
