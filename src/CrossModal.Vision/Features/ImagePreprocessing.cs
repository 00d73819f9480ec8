using System.Runtime.CompilerServices;
using CrossModal.Vision.Imaging;

namespace CrossModal.Vision.Features;

/// <summary>
/// How an image becomes a network input: Pillow-bilinear resize to <see cref="Width"/> x <see cref="Height"/> (no
/// crop, aspect ratio not kept), then per channel (value * <see cref="Scale"/> - mean) / std in CHW order, with the
/// channels in RGB or BGR order. <see cref="SqueezeNetCaffe"/> is what the SqueezeNet 1.1 ONNX release expects.
/// </summary>
/// <param name="Width">Input width in pixels.</param>
/// <param name="Height">Input height in pixels.</param>
/// <param name="Bgr">True for B, G, R channel order (Caffe models), false for R, G, B.</param>
/// <param name="Scale">Multiplies the 0..255 byte values first (1 keeps 0..255; 1/255 gives 0..1).</param>
/// <param name="Mean">Per-channel mean subtracted after scaling, in the model's channel order.</param>
/// <param name="Std">Per-channel standard deviation divided by last, in the model's channel order.</param>
public sealed record ImagePreprocessing(int Width, int Height, bool Bgr, float Scale, float[] Mean, float[] Std)
{
    /// <summary>224 x 224, BGR, 0..255, no mean or std: SqueezeNet 1.1 from the ONNX model zoo (Caffe2 export).</summary>
    public static ImagePreprocessing SqueezeNetCaffe { get; } = new(224, 224, true, 1f, new[] { 0f, 0f, 0f }, new[] { 1f, 1f, 1f });

    /// <summary>Resizes <paramref name="image"/> and writes the [3, Height, Width] input into <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(RgbImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (Width <= 0 || Height <= 0) throw new ArgumentException($"Input size must be positive, got {Width} x {Height}.");
        if (Mean.Length != 3 || Std.Length != 3) throw new ArgumentException($"Mean and Std need 3 values each, got {Mean.Length} and {Std.Length}.");
        int plane = Width * Height;
        if (destination.Length != 3 * plane) throw new ArgumentException($"Destination holds {destination.Length} floats, expected 3 x {Height} x {Width}.", nameof(destination));
        var resized = ImageResize.Bilinear(image, Width, Height);
        var px = resized.Pixels;
        for (int c = 0; c < 3; c++)
        {
            int source = Bgr ? 2 - c : c;
            float mul = Scale / Std[c], add = -Mean[c] / Std[c];
            var dst = destination.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = px[3 * i + source] * mul + add;
        }
    }
}
