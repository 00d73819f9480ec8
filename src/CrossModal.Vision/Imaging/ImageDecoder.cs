using CrossModal.Vision.Imaging.Jpeg;
using CrossModal.Vision.Imaging.Png;

namespace CrossModal.Vision.Imaging;

/// <summary>
/// Decodes JPEG and PNG files to <see cref="RgbImage"/>, recognising the format from the first bytes (not the file
/// extension). The pixels equal Pillow's <c>Image.open(path).convert("RGB")</c>; see <see cref="JpegDecoder"/> and
/// <see cref="PngDecoder"/> for what is supported and the few documented differences.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Reads and decodes an image file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a supported image, or is truncated or corrupt (the message names the file).</exception>
    public static RgbImage Decode(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Image not found: {path}", path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>Decodes an image held in memory; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a supported image, or are truncated or corrupt.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data, string source)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return JpegDecoder.Decode(data, source);
        if (data.Length >= 8 && data[..8].SequenceEqual(PngDecoder.Signature)) return PngDecoder.Decode(data, source);
        if (data.Length == 0) throw new InvalidDataException($"{source}: the file is empty.");
        throw new InvalidDataException($"{source}: not a JPEG or PNG file (starts with {Convert.ToHexString(data[..Math.Min(8, data.Length)])}).");
    }
}
