using System.Buffers.Binary;
using System.IO.Compression;
using CrossModal.Tensors.IO;

namespace CrossModal.Data.Synthetic;

/// <summary>
/// A minimal PNG writer: 8-bit RGB, no interlacing, one IDAT chunk compressed with zlib (System.IO.Compression),
/// each scanline with the "Up" filter (flat synthetic scenes compress to a few KB). Enough for renderings; not a
/// general encoder (no palette, alpha, or 16-bit).
/// </summary>
internal static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="rgb"/> (height rows of width x 3 bytes) as PNG.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> rgb, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"PNG size must be positive; got {width} x {height}.");
        int stride = width * 3;
        if (rgb.Length != stride * height) throw new ArgumentException($"{rgb.Length} bytes do not make a {width} x {height} RGB image ({stride * height} bytes).");

        using var output = new MemoryStream();
        output.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: truecolour RGB
        header[10] = 0; // compression: deflate
        header[11] = 0; // filter method 0
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR"u8, header);

        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                var line = new byte[stride + 1];
                for (int y = 0; y < height; y++)
                {
                    var row = rgb.Slice(y * stride, stride);
                    if (y == 0)
                    {
                        line[0] = 0; // None
                        row.CopyTo(line.AsSpan(1));
                    }
                    else
                    {
                        line[0] = 2; // Up: difference to the row above
                        var above = rgb.Slice((y - 1) * stride, stride);
                        for (int i = 0; i < stride; i++) line[i + 1] = (byte)(row[i] - above[i]);
                    }
                    z.Write(line);
                }
            }
            WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        }
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        s.Write(type);
        s.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Append(Crc32.Compute(type), data));
        s.Write(word);
    }
}
