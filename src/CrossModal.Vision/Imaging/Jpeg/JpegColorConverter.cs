using System.Runtime.CompilerServices;

namespace CrossModal.Vision.Imaging.Jpeg;

/// <summary>
/// YCbCr to RGB exactly as libjpeg's ycc_rgb_convert (jdcolor.c): per-value tables in 16-bit fixed point,
/// R = Y + round(1.402 Cr'), B = Y + round(1.772 Cb'), G = Y + ((-0.34414 Cb' - 0.71414 Cr' + 1/2) >> 16), with
/// Cb' = Cb - 128 and the sums clamped to 0..255. Tables cost 4 KB once; the inner loop is three lookups and adds.
/// </summary>
internal static class JpegColorConverter
{
    private const int ScaleBits = 16;
    private const int OneHalf = 1 << (ScaleBits - 1);

    private static readonly int[] CrToR = new int[256];
    private static readonly int[] CbToB = new int[256];
    private static readonly int[] CrToG = new int[256];
    private static readonly int[] CbToG = new int[256];

    static JpegColorConverter()
    {
        static int Fix(double x) => (int)(x * (1 << ScaleBits) + 0.5);
        for (int i = 0; i < 256; i++)
        {
            int x = i - 128;
            CrToR[i] = (Fix(1.40200) * x + OneHalf) >> ScaleBits;
            CbToB[i] = (Fix(1.77200) * x + OneHalf) >> ScaleBits;
            CrToG[i] = -Fix(0.71414) * x;
            CbToG[i] = -Fix(0.34414) * x + OneHalf;
        }
    }

    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);

    /// <summary>Converts one row of full-resolution Y, Cb, Cr samples to interleaved RGB.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void YCbCrToRgb(ReadOnlySpan<byte> y, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, Span<byte> rgb)
    {
        for (int i = 0; i < y.Length; i++)
        {
            int yy = y[i], b = cb[i], r = cr[i];
            rgb[3 * i] = Clamp(yy + CrToR[r]);
            rgb[3 * i + 1] = Clamp(yy + ((CbToG[b] + CrToG[r]) >> ScaleBits));
            rgb[3 * i + 2] = Clamp(yy + CbToB[b]);
        }
    }
}
