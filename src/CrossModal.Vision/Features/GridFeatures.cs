using System.Runtime.CompilerServices;

namespace CrossModal.Vision.Features;

/// <summary>
/// Turns a CNN feature map [C, H, W] into "region" features: a G x G grid of cells by adaptive average pooling with
/// PyTorch's bins (cell i covers rows floor(i*H/G) to ceil((i+1)*H/G), exclusive; cells may overlap), written
/// row-major as G*G vectors of C values, or one global mean vector. This is the layout of the SCAN precomp
/// "regions" computed from grid features (e.g. 6 x 6 = 36 regions of SqueezeNet's fire9/concat).
/// </summary>
public static class GridFeatures
{
    /// <summary>
    /// Pools <paramref name="map"/> ([channels, height, width], row-major) into <paramref name="output"/>
    /// ([grid*grid, channels]: cell (gy, gx) at row gy*grid+gx).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AdaptiveAveragePool(ReadOnlySpan<float> map, int channels, int height, int width, int grid, Span<float> output)
    {
        if (channels <= 0 || height <= 0 || width <= 0) throw new ArgumentException($"Feature map size must be positive, got {channels} x {height} x {width}.");
        if (grid <= 0) throw new ArgumentException($"Grid must be positive, got {grid}.", nameof(grid));
        if (map.Length != channels * height * width) throw new ArgumentException($"Map holds {map.Length} values, expected {channels} x {height} x {width}.", nameof(map));
        if (output.Length != grid * grid * channels) throw new ArgumentException($"Output holds {output.Length} values, expected {grid * grid} x {channels}.", nameof(output));
        for (int gy = 0; gy < grid; gy++)
        {
            int y0 = gy * height / grid, y1 = ((gy + 1) * height + grid - 1) / grid;
            for (int gx = 0; gx < grid; gx++)
            {
                int x0 = gx * width / grid, x1 = ((gx + 1) * width + grid - 1) / grid;
                float count = (y1 - y0) * (x1 - x0);
                var cell = output.Slice((gy * grid + gx) * channels, channels);
                for (int c = 0; c < channels; c++)
                {
                    var plane = map.Slice(c * height * width, height * width);
                    float sum = 0;
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++) sum += plane[y * width + x];
                    cell[c] = sum / count;
                }
            }
        }
    }

    /// <summary>The mean of each channel of <paramref name="map"/> ([channels, height, width]) into <paramref name="output"/> ([channels]).</summary>
    public static void GlobalMean(ReadOnlySpan<float> map, int channels, int height, int width, Span<float> output)
    {
        if (map.Length != channels * height * width) throw new ArgumentException($"Map holds {map.Length} values, expected {channels} x {height} x {width}.", nameof(map));
        if (output.Length != channels) throw new ArgumentException($"Output holds {output.Length} values, expected {channels}.", nameof(output));
        int size = height * width;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            foreach (float v in map.Slice(c * size, size)) sum += v;
            output[c] = (float)(sum / size);
        }
    }
}
