using System.Runtime.CompilerServices;

namespace CrossModal.Vision.Imaging.Jpeg;

/// <summary>
/// The accurate integer inverse DCT that libjpeg uses by default (JDCT_ISLOW, jidctint.c): the Loeffler-Ligtenberg-
/// Moschytz factorisation in 13-bit fixed point, columns first with 2 extra bits of precision, then rows, then a
/// range limit that wraps out-of-range values exactly like libjpeg's IDCT_range_limit table (indices masked with
/// 1023). Written from the published algorithm; reproducing its integer rounding keeps the output byte-identical
/// to libjpeg (and to libjpeg-turbo's SIMD versions, which are bit-exact with it).
/// </summary>
internal static class JpegIdct
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;

    // FIX(x) = (int)(x * 2^13 + 0.5)
    private const int Fix0_298631336 = 2446;
    private const int Fix0_390180644 = 3196;
    private const int Fix0_541196100 = 4433;
    private const int Fix0_765366865 = 6270;
    private const int Fix0_899976223 = 7373;
    private const int Fix1_175875602 = 9633;
    private const int Fix1_501321110 = 12299;
    private const int Fix1_847759065 = 15137;
    private const int Fix1_961570560 = 16069;
    private const int Fix2_053119869 = 16819;
    private const int Fix2_562915447 = 20995;
    private const int Fix3_072711026 = 25172;

    // libjpeg's post-IDCT range-limit table: index = value & 1023 where value is centred on 0.
    // [0, 127] -> value + 128; [128, 511] -> 255; [512, 895] -> 0; [896, 1023] -> value - 896.
    private static readonly byte[] RangeLimit = BuildRangeLimit();

    private static byte[] BuildRangeLimit()
    {
        var t = new byte[1024];
        for (int i = 0; i < 1024; i++)
        {
            t[i] = i < 128 ? (byte)(i + 128) : i < 512 ? (byte)255 : i < 896 ? (byte)0 : (byte)(i - 896);
        }
        return t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Descale(int x, int n) => (x + (1 << (n - 1))) >> n;

    /// <summary>
    /// Dequantizes one block (natural order) and writes the 8x8 samples at <paramref name="output"/> with row
    /// stride <paramref name="stride"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transform(ReadOnlySpan<short> coefficients, ReadOnlySpan<ushort> quant, Span<byte> output, int stride)
    {
        Span<int> ws = stackalloc int[64];
        var range = RangeLimit;

        // Pass 1: columns from the input into the work array, scaled up by 2^Pass1Bits.
        for (int col = 0; col < 8; col++)
        {
            if (coefficients[8 + col] == 0 && coefficients[16 + col] == 0 && coefficients[24 + col] == 0 && coefficients[32 + col] == 0
                && coefficients[40 + col] == 0 && coefficients[48 + col] == 0 && coefficients[56 + col] == 0)
            {
                // AC terms all zero: the column is constant (identical to the full computation below).
                int dc = (coefficients[col] * quant[col]) << Pass1Bits;
                for (int r = 0; r < 8; r++) ws[r * 8 + col] = dc;
                continue;
            }

            // Even part.
            int z2 = coefficients[16 + col] * quant[16 + col];
            int z3 = coefficients[48 + col] * quant[48 + col];
            int z1 = (z2 + z3) * Fix0_541196100;
            int tmp2 = z1 + z3 * -Fix1_847759065;
            int tmp3 = z1 + z2 * Fix0_765366865;

            z2 = coefficients[col] * quant[col];
            z3 = coefficients[32 + col] * quant[32 + col];
            int tmp0 = (z2 + z3) << ConstBits;
            int tmp1 = (z2 - z3) << ConstBits;

            int tmp10 = tmp0 + tmp3;
            int tmp13 = tmp0 - tmp3;
            int tmp11 = tmp1 + tmp2;
            int tmp12 = tmp1 - tmp2;

            // Odd part.
            tmp0 = coefficients[56 + col] * quant[56 + col];
            tmp1 = coefficients[40 + col] * quant[40 + col];
            tmp2 = coefficients[24 + col] * quant[24 + col];
            tmp3 = coefficients[8 + col] * quant[8 + col];

            OddPart(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            ws[0 * 8 + col] = Descale(tmp10 + tmp3, ConstBits - Pass1Bits);
            ws[7 * 8 + col] = Descale(tmp10 - tmp3, ConstBits - Pass1Bits);
            ws[1 * 8 + col] = Descale(tmp11 + tmp2, ConstBits - Pass1Bits);
            ws[6 * 8 + col] = Descale(tmp11 - tmp2, ConstBits - Pass1Bits);
            ws[2 * 8 + col] = Descale(tmp12 + tmp1, ConstBits - Pass1Bits);
            ws[5 * 8 + col] = Descale(tmp12 - tmp1, ConstBits - Pass1Bits);
            ws[3 * 8 + col] = Descale(tmp13 + tmp0, ConstBits - Pass1Bits);
            ws[4 * 8 + col] = Descale(tmp13 - tmp0, ConstBits - Pass1Bits);
        }

        // Pass 2: rows from the work array to the output, removing 2^Pass1Bits and the factor 8.
        const int shift = ConstBits + Pass1Bits + 3;
        for (int row = 0; row < 8; row++)
        {
            var w = ws.Slice(row * 8, 8);
            var o = output.Slice(row * stride, 8);
            if (w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0)
            {
                byte dc = range[Descale(w[0], Pass1Bits + 3) & 1023];
                o.Fill(dc);
                continue;
            }

            int z2 = w[2], z3 = w[6];
            int z1 = (z2 + z3) * Fix0_541196100;
            int tmp2 = z1 + z3 * -Fix1_847759065;
            int tmp3 = z1 + z2 * Fix0_765366865;

            int tmp0 = (w[0] + w[4]) << ConstBits;
            int tmp1 = (w[0] - w[4]) << ConstBits;

            int tmp10 = tmp0 + tmp3;
            int tmp13 = tmp0 - tmp3;
            int tmp11 = tmp1 + tmp2;
            int tmp12 = tmp1 - tmp2;

            tmp0 = w[7];
            tmp1 = w[5];
            tmp2 = w[3];
            tmp3 = w[1];
            OddPart(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            o[0] = range[Descale(tmp10 + tmp3, shift) & 1023];
            o[7] = range[Descale(tmp10 - tmp3, shift) & 1023];
            o[1] = range[Descale(tmp11 + tmp2, shift) & 1023];
            o[6] = range[Descale(tmp11 - tmp2, shift) & 1023];
            o[2] = range[Descale(tmp12 + tmp1, shift) & 1023];
            o[5] = range[Descale(tmp12 - tmp1, shift) & 1023];
            o[3] = range[Descale(tmp13 + tmp0, shift) & 1023];
            o[4] = range[Descale(tmp13 - tmp0, shift) & 1023];
        }
    }

    /// <summary>The odd part shared by both passes: inputs are the coefficients 7, 5, 3, 1; outputs replace them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OddPart(ref int tmp0, ref int tmp1, ref int tmp2, ref int tmp3)
    {
        int z1 = tmp0 + tmp3;
        int z2 = tmp1 + tmp2;
        int z3 = tmp0 + tmp2;
        int z4 = tmp1 + tmp3;
        int z5 = (z3 + z4) * Fix1_175875602;

        tmp0 *= Fix0_298631336;
        tmp1 *= Fix2_053119869;
        tmp2 *= Fix3_072711026;
        tmp3 *= Fix1_501321110;
        z1 *= -Fix0_899976223;
        z2 *= -Fix2_562915447;
        z3 *= -Fix1_961570560;
        z4 *= -Fix0_390180644;

        z3 += z5;
        z4 += z5;

        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;
    }
}
