using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CrossModal.Search.Quantized;

/// <summary>
/// int8 codes and their dot products. A vector is quantised symmetrically with its own scale
/// s = max|x_i| / 127, code_i = round(x_i / s) in [-127, 127]. Gallery codes are stored in groups of 16 items,
/// interleaved by 4 dimensions: for each run of 4 dimensions ("quad") the group holds 16 x 4 bytes, item after
/// item, so that one 256-bit load gives 8 items' 4 consecutive codes - the operand layout of the int8
/// multiply-add instructions, where each 32-bit lane sums 4 byte products. The query's 4 codes of the quad are
/// broadcast to every lane, so no horizontal sums are needed. Dimensions are zero-padded to a multiple of 4.
/// </summary>
/// <remarks>
/// Three kernels, chosen once per process, all computing the same exact int32 dot products:
/// <list type="bullet">
/// <item>AVX-VNNI (vpdpbusd, 256-bit; Zen 5, Intel since Alder Lake): one instruction per 32 byte products. It
/// multiplies unsigned by signed bytes, so the query is offset to unsigned (q + 128, a flip of the sign bit) and
/// 128 x (sum of the item's codes) is subtracted afterwards - the sums are kept per item.</item>
/// <item>AVX2 (vpmaddubsw + vpmaddwd): vpmaddubsw also takes unsigned x signed bytes but saturates its 16-bit pair
/// sums, so it gets |x| and q * sign(x) (vpsignb): pairs stay within 2 x 127 x 127 = 32,258 &lt; 32,767.</item>
/// <item>Scalar, for anything else (and the tests' DOTNET_EnableAVX2=0 run).</item>
/// </list>
/// .NET 10 exposes the 512-bit vpdpbusd only through AVX10.1, which AMD's AVX-512 processors do not report, so
/// the widest int8 kernel here is 256-bit; on AVX-512 machines without AVX-VNNI the AVX2 kernel runs.
/// Accumulators are int32: with codes of at most 127 in magnitude, a dimension up to 133,000 cannot overflow.
/// </remarks>
internal static unsafe class Int8Dot
{
    /// <summary>Items per interleaved group.</summary>
    public const int GroupItems = 16;

    /// <summary>Bytes per quad of a group (16 items x 4 dimensions).</summary>
    public const int QuadBytes = GroupItems * 4;

    private enum Isa { AvxVnni, Avx2, Scalar }

    private static readonly Isa Kind = AvxVnni.IsSupported && Avx2.IsSupported ? Isa.AvxVnni : Avx2.IsSupported ? Isa.Avx2 : Isa.Scalar;

    /// <summary>"avxvnni", "avx2" or "scalar": the int8 kernel this process uses.</summary>
    public static string KernelName => Kind switch { Isa.AvxVnni => "avxvnni", Isa.Avx2 => "avx2", _ => "scalar" };

    /// <summary>Whether the kernel needs queries offset to unsigned (q + 128) and the items' code sums.</summary>
    public static bool UsesUnsignedQueries => Kind == Isa.AvxVnni;

    /// <summary>The dimension rounded up to whole quads.</summary>
    public static int PaddedDimension(int dimension) => (dimension + 3) & ~3;

    /// <summary>
    /// Quantises <paramref name="x"/> into <paramref name="codes"/> (its length, the padded dimension; the padding
    /// is zeroed) and returns the scale (0 for an all-zero vector, whose codes are all 0).
    /// </summary>
    public static float Quantize(ReadOnlySpan<float> x, Span<sbyte> codes)
    {
        float max = 0;
        foreach (float v in x) max = Math.Max(max, Math.Abs(v));
        codes.Clear();
        if (max == 0) return 0;
        float scale = max / 127f, inverse = 127f / max;
        for (int i = 0; i < x.Length; i++)
            codes[i] = (sbyte)Math.Clamp((int)MathF.Round(x[i] * inverse, MidpointRounding.ToEven), -127, 127);
        return scale;
    }

    /// <summary>Writes an item's codes (padded dimension P) into lane <paramref name="lane"/> of the interleaved group at <paramref name="group"/>.</summary>
    public static void Scatter(ReadOnlySpan<sbyte> codes, byte* group, int lane)
    {
        for (int quad = 0; quad < codes.Length / 4; quad++)
        {
            byte* dst = group + quad * QuadBytes + lane * 4;
            for (int r = 0; r < 4; r++) dst[r] = (byte)codes[quad * 4 + r];
        }
    }

    /// <summary>
    /// Prepares a query's codes for the kernel in place: flips the sign bit (q + 128 as unsigned) when the kernel
    /// wants unsigned queries.
    /// </summary>
    public static void PrepareQuery(Span<sbyte> codes)
    {
        if (!UsesUnsignedQueries) return;
        for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)((byte)codes[i] ^ 0x80);
    }

    /// <summary>
    /// dots[t] = (codes of item t of the group) . (query codes) for the 16 items of the group at
    /// <paramref name="group"/> with <paramref name="quads"/> quads; <paramref name="query"/> was prepared by
    /// <see cref="PrepareQuery"/>, <paramref name="sums"/> holds the 16 items' code sums.
    /// </summary>
    public static void Group1(byte* group, int quads, sbyte* query, int* sums, int* dots)
    {
        switch (Kind)
        {
            case Isa.AvxVnni: Vnni1(group, quads, query, sums, dots); break;
            case Isa.Avx2: Avx2One(group, quads, query, dots); break;
            default: Scalar(group, quads, query, 1, 0, dots); break;
        }
    }

    /// <summary>
    /// Like <see cref="Group1"/> for 4 queries at once (query j at query + j * stride), dots[j * 16 + t]: the
    /// group's codes are loaded once for the four.
    /// </summary>
    public static void Group4(byte* group, int quads, sbyte* query, int stride, int* sums, int* dots)
    {
        switch (Kind)
        {
            case Isa.AvxVnni: Vnni4(group, quads, query, stride, sums, dots); break;
            case Isa.Avx2:
                for (int j = 0; j < 4; j++) Avx2One(group, quads, query + j * stride, dots + j * GroupItems);
                break;
            default: Scalar(group, quads, query, 4, stride, dots); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Broadcast(sbyte* quad) => Vector256.Create(*(int*)quad).AsByte();

    private static void Vnni1(byte* group, int quads, sbyte* query, int* sums, int* dots)
    {
        // Two quads per step into separate accumulators: four independent vpdpbusd chains.
        Vector256<int> a0 = default, a1 = default, b0 = default, b1 = default;
        int quad = 0;
        for (; quad + 2 <= quads; quad += 2)
        {
            byte* g = group + quad * QuadBytes;
            var q0 = Broadcast(query + 4 * quad);
            var q1 = Broadcast(query + 4 * quad + 4);
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, q0, Vector256.Load((sbyte*)g));
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, q0, Vector256.Load((sbyte*)g + 32));
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, q1, Vector256.Load((sbyte*)g + 64));
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, q1, Vector256.Load((sbyte*)g + 96));
        }
        if (quad < quads)
        {
            byte* g = group + quad * QuadBytes;
            var q0 = Broadcast(query + 4 * quad);
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, q0, Vector256.Load((sbyte*)g));
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, q0, Vector256.Load((sbyte*)g + 32));
        }
        // Undo the +128 offset of the query: subtract 128 x the item's code sum.
        var s0 = Vector256.Load(sums) << 7;
        var s1 = Vector256.Load(sums + 8) << 7;
        (a0 + b0 - s0).Store(dots);
        (a1 + b1 - s1).Store(dots + 8);
    }

    private static void Vnni4(byte* group, int quads, sbyte* query, int stride, int* sums, int* dots)
    {
        // 8 accumulators (2 halves of the group x 4 queries), 2 loads and 4 broadcasts per quad: 14 of the 16
        // ymm registers that VEX-encoded AVX-VNNI can address.
        Vector256<int> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
        sbyte* q0p = query, q1p = query + stride, q2p = query + 2 * stride, q3p = query + 3 * stride;
        for (int quad = 0; quad < quads; quad++)
        {
            byte* g = group + quad * QuadBytes;
            var x0 = Vector256.Load((sbyte*)g);
            var x1 = Vector256.Load((sbyte*)g + 32);
            int o = 4 * quad;
            var q = Broadcast(q0p + o);
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, q, x0);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, q, x1);
            q = Broadcast(q1p + o);
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, q, x0);
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, q, x1);
            q = Broadcast(q2p + o);
            c0 = AvxVnni.MultiplyWideningAndAdd(c0, q, x0);
            c1 = AvxVnni.MultiplyWideningAndAdd(c1, q, x1);
            q = Broadcast(q3p + o);
            d0 = AvxVnni.MultiplyWideningAndAdd(d0, q, x0);
            d1 = AvxVnni.MultiplyWideningAndAdd(d1, q, x1);
        }
        var s0 = Vector256.Load(sums) << 7;
        var s1 = Vector256.Load(sums + 8) << 7;
        (a0 - s0).Store(dots);
        (a1 - s1).Store(dots + 8);
        (b0 - s0).Store(dots + 16);
        (b1 - s1).Store(dots + 24);
        (c0 - s0).Store(dots + 32);
        (c1 - s1).Store(dots + 40);
        (d0 - s0).Store(dots + 48);
        (d1 - s1).Store(dots + 56);
    }

    private static void Avx2One(byte* group, int quads, sbyte* query, int* dots)
    {
        var ones = Vector256.Create((short)1);
        Vector256<int> a0 = default, a1 = default;
        for (int quad = 0; quad < quads; quad++)
        {
            byte* g = group + quad * QuadBytes;
            var x0 = Vector256.Load((sbyte*)g);
            var x1 = Vector256.Load((sbyte*)g + 32);
            var q = Vector256.Create(*(int*)(query + 4 * quad)).AsSByte();
            // |x| (unsigned) times q * sign(x) (signed) = x * q, with 16-bit pair sums that cannot saturate.
            var p0 = Avx2.MultiplyAddAdjacent(Avx2.Abs(x0), Avx2.Sign(q, x0));
            var p1 = Avx2.MultiplyAddAdjacent(Avx2.Abs(x1), Avx2.Sign(q, x1));
            a0 += Avx2.MultiplyAddAdjacent(p0, ones);
            a1 += Avx2.MultiplyAddAdjacent(p1, ones);
        }
        a0.Store(dots);
        a1.Store(dots + 8);
    }

    private static void Scalar(byte* group, int quads, sbyte* query, int nq, int stride, int* dots)
    {
        for (int j = 0; j < nq; j++)
        {
            sbyte* q = query + j * stride;
            for (int t = 0; t < GroupItems; t++)
            {
                int s = 0;
                for (int quad = 0; quad < quads; quad++)
                {
                    sbyte* x = (sbyte*)group + quad * QuadBytes + t * 4;
                    sbyte* qq = q + 4 * quad;
                    s += x[0] * qq[0] + x[1] * qq[1] + x[2] * qq[2] + x[3] * qq[3];
                }
                dots[j * GroupItems + t] = s;
            }
        }
    }
}
