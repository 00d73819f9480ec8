using System.Buffers.Binary;

namespace CrossModal.Serve;

/// <summary>
/// Reads an uploaded image's width and height from its header (PNG IHDR, JPEG SOFn) without decoding it, so the
/// pixel limit is enforced before any pixel buffer is allocated.
/// </summary>
internal static class ImageHeader
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>"image/jpeg", "image/png", or null when the bytes are neither.</summary>
    public static string? ContentType(ReadOnlySpan<byte> data) =>
        data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF ? "image/jpeg"
        : data.Length >= 8 && data[..8].SequenceEqual(PngSignature) ? "image/png"
        : null;

    /// <summary>The image's size, or null when the header cannot be read.</summary>
    public static (int Width, int Height)? Size(ReadOnlySpan<byte> data)
    {
        string? type = ContentType(data);
        if (type == "image/png")
        {
            // Signature (8), chunk length (4), "IHDR" (4), width (4), height (4), big-endian.
            if (data.Length < 24 || !data.Slice(12, 4).SequenceEqual("IHDR"u8)) return null;
            return ((int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(data[16..])), (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(data[20..])));
        }
        if (type != "image/jpeg") return null;
        int p = 2;
        while (p + 4 <= data.Length)
        {
            if (data[p] != 0xFF) return null;
            byte marker = data[p + 1];
            if (marker == 0xFF) { p++; continue; }
            if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7)) { p += 2; continue; }
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(p + 2)..]);
            if (length < 2) return null;
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision (1), height (2), width (2).
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (p + 9 > data.Length) return null;
                return (BinaryPrimitives.ReadUInt16BigEndian(data[(p + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(data[(p + 5)..]));
            }
            if (marker == 0xDA) return null; // scan data before any frame header
            p += 2 + length;
        }
        return null;
    }
}
