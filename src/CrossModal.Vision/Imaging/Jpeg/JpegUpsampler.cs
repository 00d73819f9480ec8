using System.Runtime.CompilerServices;

namespace CrossModal.Vision.Imaging.Jpeg;

/// <summary>
/// Brings a subsampled component to full resolution the way libjpeg-turbo does with its default settings
/// (do_fancy_upsampling, jdsample.c): a triangle filter for 2:1 horizontal (h2v1), 2:1 vertical (h1v2, libjpeg-turbo
/// only) and 2:1 both ways (h2v2), with libjpeg's alternating rounding biases; plain replication for other integer
/// ratios, and for h2v1/h2v2 when the component is at most 2 samples wide. Edges replicate the first/last real
/// sample, so working on the whole component plane gives exactly libjpeg's row-group-by-row-group result.
/// </summary>
internal static class JpegUpsampler
{
    /// <summary>
    /// Upsamples <paramref name="input"/> (real size <paramref name="inWidth"/> x <paramref name="inHeight"/>, row
    /// stride <paramref name="inStride"/>) by integer factors into <paramref name="output"/> of
    /// <paramref name="outWidth"/> x <paramref name="outHeight"/> (row stride outWidth), cropping the extra columns
    /// and rows that the factor produces past the image edge.
    /// </summary>
    public static void Upsample(ReadOnlySpan<byte> input, int inStride, int inWidth, int inHeight, int hFactor, int vFactor,
        Span<byte> output, int outWidth, int outHeight)
    {
        bool fancyH = hFactor == 2 && inWidth > 2;
        if (hFactor == 2 && vFactor == 1 && fancyH) H2V1Fancy(input, inStride, inWidth, output, outWidth, outHeight);
        else if (hFactor == 1 && vFactor == 2) H1V2Fancy(input, inStride, inWidth, inHeight, output, outWidth, outHeight);
        else if (hFactor == 2 && vFactor == 2 && fancyH) H2V2Fancy(input, inStride, inWidth, inHeight, output, outWidth, outHeight);
        else Replicate(input, inStride, hFactor, vFactor, output, outWidth, outHeight);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void H2V1Fancy(ReadOnlySpan<byte> input, int inStride, int inWidth, Span<byte> output, int outWidth, int outHeight)
    {
        byte[] tmp = new byte[inWidth * 2];
        for (int y = 0; y < outHeight; y++)
        {
            var inp = input.Slice(y * inStride, inWidth);
            int v = inp[0];
            tmp[0] = (byte)v;
            tmp[1] = (byte)((v * 3 + inp[1] + 2) >> 2);
            for (int x = 1; x < inWidth - 1; x++)
            {
                int t = inp[x] * 3;
                tmp[2 * x] = (byte)((t + inp[x - 1] + 1) >> 2);
                tmp[2 * x + 1] = (byte)((t + inp[x + 1] + 2) >> 2);
            }
            int last = inWidth - 1;
            v = inp[last];
            tmp[2 * last] = (byte)((v * 3 + inp[last - 1] + 1) >> 2);
            tmp[2 * last + 1] = (byte)v;
            tmp.AsSpan(0, outWidth).CopyTo(output.Slice(y * outWidth, outWidth));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void H1V2Fancy(ReadOnlySpan<byte> input, int inStride, int inWidth, int inHeight, Span<byte> output, int outWidth, int outHeight)
    {
        for (int y = 0; y < outHeight; y++)
        {
            int inRow = y >> 1;
            // Even output rows lean on the row above (bias 1), odd rows on the row below (bias 2).
            bool upper = (y & 1) == 0;
            int neighbour = Math.Clamp(upper ? inRow - 1 : inRow + 1, 0, inHeight - 1);
            int bias = upper ? 1 : 2;
            var near = input.Slice(inRow * inStride, inWidth);
            var far = input.Slice(neighbour * inStride, inWidth);
            var o = output.Slice(y * outWidth, outWidth);
            for (int x = 0; x < outWidth; x++) o[x] = (byte)((near[x] * 3 + far[x] + bias) >> 2);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void H2V2Fancy(ReadOnlySpan<byte> input, int inStride, int inWidth, int inHeight, Span<byte> output, int outWidth, int outHeight)
    {
        var sums = new int[inWidth];
        var tmp = new byte[inWidth * 2];
        for (int y = 0; y < outHeight; y++)
        {
            int inRow = y >> 1;
            bool upper = (y & 1) == 0;
            int neighbour = Math.Clamp(upper ? inRow - 1 : inRow + 1, 0, inHeight - 1);
            var near = input.Slice(inRow * inStride, inWidth);
            var far = input.Slice(neighbour * inStride, inWidth);
            for (int x = 0; x < inWidth; x++) sums[x] = near[x] * 3 + far[x];

            // Horizontal triangle filter on the vertical sums (weights 9/3/3/1 in total, /16).
            int last = inWidth - 1;
            tmp[0] = (byte)((sums[0] * 4 + 8) >> 4);
            tmp[1] = (byte)((sums[0] * 3 + sums[1] + 7) >> 4);
            for (int x = 1; x < last; x++)
            {
                int t = sums[x] * 3;
                tmp[2 * x] = (byte)((t + sums[x - 1] + 8) >> 4);
                tmp[2 * x + 1] = (byte)((t + sums[x + 1] + 7) >> 4);
            }
            tmp[2 * last] = (byte)((sums[last] * 3 + sums[last - 1] + 8) >> 4);
            tmp[2 * last + 1] = (byte)((sums[last] * 4 + 7) >> 4);
            tmp.AsSpan(0, outWidth).CopyTo(output.Slice(y * outWidth, outWidth));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Replicate(ReadOnlySpan<byte> input, int inStride, int hFactor, int vFactor, Span<byte> output, int outWidth, int outHeight)
    {
        for (int y = 0; y < outHeight; y++)
        {
            var inp = input.Slice((y / vFactor) * inStride);
            var o = output.Slice(y * outWidth, outWidth);
            if (hFactor == 1) inp.Slice(0, outWidth).CopyTo(o);
            else for (int x = 0; x < outWidth; x++) o[x] = inp[x / hFactor];
        }
    }
}
