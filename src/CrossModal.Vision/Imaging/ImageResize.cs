using System.Runtime.CompilerServices;

namespace CrossModal.Vision.Imaging;

/// <summary>
/// Resizing with Pillow's semantics (Resample.c), so that <c>image.resize((w, h), Image.BILINEAR)</c> is
/// reproduced byte for byte: a separable triangle filter whose support widens by the scale factor when
/// downscaling (every source pixel under the footprint contributes, it is not a 2x2 interpolation), weights
/// computed in double and normalised per output pixel, then converted to 22-bit fixed point; the horizontal pass runs
/// first into an 8-bit intermediate (only over the source rows the vertical pass needs), then the vertical pass.
/// A dimension that does not change skips its pass, as in Pillow.
/// </summary>
public static class ImageResize
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes to <paramref name="width"/> x <paramref name="height"/> with Pillow's BILINEAR filter.</summary>
    public static RgbImage Bilinear(RgbImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (width <= 0 || height <= 0) throw new ArgumentException($"Target size must be positive, got {width} x {height}.");
        if (width == image.Width && height == image.Height) return image;

        bool needHorizontal = width != image.Width;
        bool needVertical = height != image.Height;
        var (boundsH, kernelH, ksizeH) = Coefficients(image.Width, width);
        var (boundsV, kernelV, ksizeV) = Coefficients(image.Height, height);

        // Only the source rows some output row reads are filtered horizontally.
        int firstRow = boundsV[0];
        int lastRow = boundsV[(height - 1) * 2] + boundsV[(height - 1) * 2 + 1];

        byte[] source = image.Pixels.ToArray();
        int sourceWidth = image.Width, sourceRows = image.Height, rowOffset = 0;
        if (needHorizontal)
        {
            int rows = lastRow - firstRow;
            var temp = new byte[rows * width * 3];
            HorizontalPass(source, sourceWidth, firstRow, rows, temp, width, boundsH, kernelH, ksizeH);
            source = temp;
            sourceWidth = width;
            sourceRows = rows;
            rowOffset = firstRow;
        }
        if (needVertical)
        {
            var output = new byte[width * height * 3];
            VerticalPass(source, sourceWidth, rowOffset, output, height, boundsV, kernelV, ksizeV);
            return RgbImage.Wrap(width, height, output);
        }
        if (sourceRows != height) throw new InvalidOperationException("Horizontal-only resize must keep every row.");
        return RgbImage.Wrap(width, height, source);
    }

    /// <summary>
    /// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the triangle filter over the full box [0, inSize):
    /// per output index, the first source index, the number of taps and the fixed-point weights (ksize per row).
    /// </summary>
    internal static (int[] Bounds, int[] Kernel, int KSize) Coefficients(int inSize, int outSize)
    {
        const double filterSupport = 1.0;
        double scale = (double)inSize / outSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = filterSupport * filterScale;
        int ksize = (int)Math.Ceiling(support) * 2 + 1;

        var bounds = new int[outSize * 2];
        var kernel = new int[outSize * ksize];
        var weights = new double[ksize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterScale;
            // (int) truncates toward zero, like the C cast; clamped to the image afterwards.
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            for (int x = 0; x < xmax; x++)
            {
                double w = Triangle((x + xmin - center + 0.5) * ss);
                weights[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                if (ww != 0.0) weights[x] /= ww;
            }
            for (int x = 0; x < ksize; x++)
            {
                double w = x < xmax ? weights[x] : 0.0;
                kernel[xx * ksize + x] = w < 0
                    ? (int)(-0.5 + w * (1 << PrecisionBits))
                    : (int)(0.5 + w * (1 << PrecisionBits));
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return (bounds, kernel, ksize);
    }

    private static double Triangle(double x)
    {
        if (x < 0.0) x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static byte Clip8(int v)
    {
        int s = v >> PrecisionBits;
        return (byte)(s < 0 ? 0 : s > 255 ? 255 : s);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HorizontalPass(byte[] src, int srcWidth, int firstRow, int rows, byte[] dst, int dstWidth,
        int[] bounds, int[] kernel, int ksize)
    {
        const int half = 1 << (PrecisionBits - 1);
        for (int y = 0; y < rows; y++)
        {
            int srcRow = (firstRow + y) * srcWidth * 3;
            int dstRow = y * dstWidth * 3;
            for (int xx = 0; xx < dstWidth; xx++)
            {
                int xmin = bounds[xx * 2], xmax = bounds[xx * 2 + 1];
                int k = xx * ksize;
                int s0 = half, s1 = half, s2 = half;
                for (int x = 0; x < xmax; x++)
                {
                    int p = srcRow + (x + xmin) * 3;
                    int w = kernel[k + x];
                    s0 += src[p] * w;
                    s1 += src[p + 1] * w;
                    s2 += src[p + 2] * w;
                }
                dst[dstRow + xx * 3] = Clip8(s0);
                dst[dstRow + xx * 3 + 1] = Clip8(s1);
                dst[dstRow + xx * 3 + 2] = Clip8(s2);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VerticalPass(byte[] src, int width, int rowOffset, byte[] dst, int dstHeight,
        int[] bounds, int[] kernel, int ksize)
    {
        const int half = 1 << (PrecisionBits - 1);
        int rowBytes = width * 3;
        for (int yy = 0; yy < dstHeight; yy++)
        {
            int ymin = bounds[yy * 2] - rowOffset, ymax = bounds[yy * 2 + 1];
            int k = yy * ksize;
            int dstRow = yy * rowBytes;
            for (int i = 0; i < rowBytes; i++)
            {
                int s = half;
                for (int y = 0; y < ymax; y++) s += src[(ymin + y) * rowBytes + i] * kernel[k + y];
                dst[dstRow + i] = Clip8(s);
            }
        }
    }
}
