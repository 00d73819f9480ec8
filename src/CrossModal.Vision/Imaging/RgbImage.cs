namespace CrossModal.Vision.Imaging;

/// <summary>
/// An 8-bit RGB image: rows top to bottom, pixels interleaved R, G, B (Pillow's "RGB" mode byte layout, so a
/// SHA-256 of <see cref="Pixels"/> equals one of Pillow's <c>tobytes()</c>). Immutable.
/// </summary>
public sealed class RgbImage
{
    private readonly byte[] _rgb;

    /// <summary>Copies <paramref name="rgb"/> (width * height * 3 bytes) into a new image.</summary>
    public RgbImage(int width, int height, ReadOnlySpan<byte> rgb)
        : this(width, height, rgb.ToArray(), check: true)
    {
    }

    private RgbImage(int width, int height, byte[] rgb, bool check)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"Image size must be positive, got {width} x {height}.");
        if (check && rgb.LongLength != (long)width * height * 3)
            throw new ArgumentException($"A {width} x {height} RGB image needs {(long)width * height * 3} bytes, got {rgb.LongLength}.");
        Width = width;
        Height = height;
        _rgb = rgb;
    }

    /// <summary>Wraps an array the caller hands over (no copy).</summary>
    internal static RgbImage Wrap(int width, int height, byte[] rgb)
    {
        if (rgb.LongLength != (long)width * height * 3)
            throw new ArgumentException($"A {width} x {height} RGB image needs {(long)width * height * 3} bytes, got {rgb.LongLength}.");
        return new RgbImage(width, height, rgb, check: false);
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>All pixels, row-major, R G B interleaved.</summary>
    public ReadOnlySpan<byte> Pixels => _rgb;

    /// <summary>One row of Width * 3 bytes.</summary>
    public ReadOnlySpan<byte> Row(int y) => _rgb.AsSpan(checked(y * Width * 3), Width * 3);

    /// <summary>The pixel at column <paramref name="x"/>, row <paramref name="y"/>.</summary>
    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
                throw new ArgumentOutOfRangeException(nameof(x), $"Pixel ({x}, {y}) is outside the {Width} x {Height} image.");
            int i = (y * Width + x) * 3;
            return (_rgb[i], _rgb[i + 1], _rgb[i + 2]);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"RgbImage {Width} x {Height}";
}
