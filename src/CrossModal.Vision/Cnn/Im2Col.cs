using System.Runtime.CompilerServices;

namespace CrossModal.Vision.Cnn;

/// <summary>
/// Builds the column matrix of a convolution for a range of output positions: row (c, i, j) holds, for each output
/// position p in [p0, p1), the input sample under kernel tap (i, j), or 0 in the padding. Rows are written as runs
/// along output rows; with unit stride the in-bounds part of a run is one contiguous copy.
/// </summary>
internal static class Im2Col
{
    /// <summary>Convolution geometry for one image plane.</summary>
    internal readonly record struct Geometry(int H, int W, int Kh, int Kw, int Sh, int Sw, int Dh, int Dw, int PadTop, int PadLeft, int Ho, int Wo);

    /// <summary>Fills <paramref name="columns"/> ([channels*kh*kw, p1-p0], row-major) from <paramref name="input"/> ([channels, H, W]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(ReadOnlySpan<float> input, int channels, in Geometry g, int p0, int p1, Span<float> columns)
    {
        int width = p1 - p0;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            var plane = input.Slice(c * g.H * g.W, g.H * g.W);
            for (int i = 0; i < g.Kh; i++)
            {
                for (int j = 0; j < g.Kw; j++, row++)
                {
                    var dst = columns.Slice(row * width, width);
                    int colOffset = j * g.Dw - g.PadLeft;
                    // Output columns whose input column is inside [0, W): ox in [oxLo, oxHi).
                    int oxLo = colOffset >= 0 ? 0 : (-colOffset + g.Sw - 1) / g.Sw;
                    int oxHi = g.W - 1 - colOffset < 0 ? 0 : Math.Min(g.Wo, (g.W - 1 - colOffset) / g.Sw + 1);
                    int p = p0;
                    while (p < p1)
                    {
                        int oy = p / g.Wo, ox = p % g.Wo;
                        int runEnd = Math.Min(p1, (oy + 1) * g.Wo);  // exclusive, within this output row
                        int oxEnd = ox + (runEnd - p);
                        var seg = dst.Slice(p - p0, runEnd - p);
                        int iy = oy * g.Sh - g.PadTop + i * g.Dh;
                        if ((uint)iy >= (uint)g.H)
                        {
                            seg.Clear();
                        }
                        else
                        {
                            var src = plane.Slice(iy * g.W, g.W);
                            int lo = Math.Clamp(oxLo, ox, oxEnd), hi = Math.Clamp(oxHi, lo, oxEnd);
                            seg.Slice(0, lo - ox).Clear();
                            seg.Slice(hi - ox).Clear();
                            if (hi > lo)
                            {
                                int ix0 = lo * g.Sw + colOffset;
                                var inner = seg.Slice(lo - ox, hi - lo);
                                if (g.Sw == 1) src.Slice(ix0, hi - lo).CopyTo(inner);
                                else for (int t = 0; t < inner.Length; t++) inner[t] = src[ix0 + t * g.Sw];
                            }
                        }
                        p = runEnd;
                    }
                }
            }
        }
    }
}
