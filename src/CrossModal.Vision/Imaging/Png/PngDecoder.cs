using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using CrossModal.Tensors.IO;

namespace CrossModal.Vision.Imaging.Png;

/// <summary>
/// Decodes PNG files to RGB: every colour type and bit depth (grayscale 1/2/4/8/16, RGB 8/16, palette 1/2/4/8,
/// grayscale+alpha 8/16, RGBA 8/16), Adam7 interlacing, all five row filters; zlib through
/// <see cref="ZLibStream"/>. The result equals Pillow's <c>convert("RGB")</c>:
/// <list type="bullet">
/// <item>Transparency is dropped, not composited: alpha channels and tRNS are ignored and the stored colour is kept
/// (a transparent pixel shows its colour values, whatever they are).</item>
/// <item>Low bit depths are scaled to 0..255 (1-bit: x255, 2-bit: x85, 4-bit: x17); 16-bit samples keep their high
/// byte. One deliberate difference: Pillow opens 16-bit grayscale as 32-bit integers and clips them to 255 when
/// converting to RGB (nearly white images); we take the high byte like every other 16-bit type.</item>
/// <item>A palette index past the end of PLTE gives Pillow's default palette entry, the gray (i, i, i).</item>
/// </list>
/// Chunk CRCs are verified except for IDAT (whose integrity zlib's Adler-32 checks), as Pillow does.
/// </summary>
public static class PngDecoder
{
    // Deflate's largest expansion: one 258-byte match per 2 bits (plus block overhead) is just under 1032:1.
    private const long MaxInflation = 1032;

    /// <summary>The 8-byte PNG signature.</summary>
    public static ReadOnlySpan<byte> Signature => new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

    private static readonly (int X, int Y, int Dx, int Dy)[] Adam7 =
    {
        (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
    };

    /// <summary>Decodes a PNG file's bytes; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The data is not a PNG, or is truncated or corrupt.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data, string source)
    {
        if (data.Length < 8 || !data[..8].SequenceEqual(Signature)) throw new InvalidDataException($"{source}: not a PNG file (bad signature).");
        int pos = 8;
        int width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
        byte[]? palette = null;
        var idat = new MemoryStream();
        bool headerSeen = false, ended = false;
        while (!ended)
        {
            if (pos + 8 > data.Length) throw new InvalidDataException($"{source}: PNG data is truncated (no IEND chunk).");
            int length = BinaryPrimitives.ReadInt32BigEndian(data[pos..]);
            var typeBytes = data.Slice(pos + 4, 4);
            string type = System.Text.Encoding.ASCII.GetString(typeBytes);
            if (length < 0 || pos + 12L + length > data.Length)
                throw new InvalidDataException($"{source}: PNG data is truncated: chunk {type} at byte {pos} declares {length} bytes, {data.Length - pos - 12} remain.");
            var body = data.Slice(pos + 8, length);
            if (type != "IDAT")
            {
                uint stored = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + length)..]);
                uint actual = Crc32.Compute(data.Slice(pos + 4, length + 4));
                if (stored != actual) throw new InvalidDataException($"{source}: corrupt PNG: chunk {type} at byte {pos} has CRC {stored:X8}, computed {actual:X8}.");
            }
            if (!headerSeen && type != "IHDR") throw new InvalidDataException($"{source}: corrupt PNG: the first chunk is {type}, expected IHDR.");
            switch (type)
            {
                case "IHDR":
                    if (length != 13) throw new InvalidDataException($"{source}: corrupt PNG: IHDR has {length} bytes, expected 13.");
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    depth = body[8];
                    colorType = body[9];
                    interlace = body[12];
                    if (width <= 0 || height <= 0) throw new InvalidDataException($"{source}: corrupt PNG: size {width} x {height}.");
                    if ((long)width * height > 1L << 28) throw new InvalidDataException($"{source}: PNG of {width} x {height} pixels is too large.");
                    if (body[10] != 0 || body[11] != 0) throw new InvalidDataException($"{source}: corrupt PNG: compression method {body[10]}, filter method {body[11]} (0 expected).");
                    if (interlace > 1) throw new InvalidDataException($"{source}: corrupt PNG: interlace method {interlace}.");
                    CheckDepth(source, colorType, depth);
                    headerSeen = true;
                    break;
                case "PLTE":
                    if (length % 3 != 0 || length == 0 || length > 768) throw new InvalidDataException($"{source}: corrupt PNG: PLTE of {length} bytes.");
                    palette = body.ToArray();
                    break;
                case "IDAT": idat.Write(body); break;
                case "IEND": ended = true; break;
                default:
                    if (char.IsUpper(type[0])) throw new InvalidDataException($"{source}: PNG uses the unknown critical chunk {type}.");
                    break; // ancillary (tRNS, gAMA, text, ...): not needed for RGB pixels
            }
            pos += 12 + length;
        }
        if (colorType == 3 && palette is null) throw new InvalidDataException($"{source}: corrupt PNG: palette image without PLTE chunk.");
        if (idat.Length == 0) throw new InvalidDataException($"{source}: PNG has no image data (no IDAT chunk).");

        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bitsPerPixel = channels * depth;
        int bpp = Math.Max(1, bitsPerPixel / 8);

        // Size of the filtered data of every pass.
        long expected = 0;
        var passes = interlace == 1 ? Adam7 : new[] { (0, 0, 1, 1) };
        foreach (var (px, py, dx, dy) in passes)
        {
            long pw = (width - px + dx - 1) / dx, ph = (height - py + dy - 1) / dy;
            if (pw > 0 && ph > 0) expected += ph * (1 + (pw * bitsPerPixel + 7) / 8);
        }
        // Deflate expands at most 1032:1 (a 258-byte match per ~2 bits): a header claiming more pixels than the image
        // data can hold is refused before the buffers are allocated, so a small file cannot ask for gigabytes.
        if (expected > MaxInflation * idat.Length)
            throw new InvalidDataException($"{source}: PNG data is truncated: a {width} x {height} image needs {expected} bytes of image data, more than the {idat.Length} compressed bytes can hold.");
        var raw = new byte[expected];
        idat.Position = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            int read = 0;
            while (read < raw.Length)
            {
                int n = z.Read(raw, read, raw.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read < raw.Length) throw new InvalidDataException($"{source}: PNG data is truncated: image data holds {read} of {raw.Length} bytes.");
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{source}: corrupt PNG image data (zlib: {e.Message})", e);
        }

        var rgb = new byte[(long)width * height * 3];
        int offset = 0;
        foreach (var (px, py, dx, dy) in passes)
        {
            int pw = (width - px + dx - 1) / dx, ph = (height - py + dy - 1) / dy;
            if (pw <= 0 || ph <= 0) continue;
            int rowBytes = (int)(((long)pw * bitsPerPixel + 7) / 8);
            var prior = new byte[rowBytes];
            for (int r = 0; r < ph; r++)
            {
                int filter = raw[offset];
                var row = raw.AsSpan(offset + 1, rowBytes);
                Unfilter(source, filter, row, prior, bpp);
                ExpandRow(row, pw, colorType, depth, palette, rgb, width, py + r * dy, px, dx);
                row.CopyTo(prior);
                offset += 1 + rowBytes;
            }
        }
        return RgbImage.Wrap(width, height, rgb);
    }

    private static void CheckDepth(string source, int colorType, int depth)
    {
        bool ok = colorType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => throw new InvalidDataException($"{source}: corrupt PNG: colour type {colorType}."),
        };
        if (!ok) throw new InvalidDataException($"{source}: corrupt PNG: bit depth {depth} is not allowed for colour type {colorType}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Unfilter(string source, int filter, Span<byte> row, ReadOnlySpan<byte> prior, int bpp)
    {
        switch (filter)
        {
            case 0: break;
            case 1:
                for (int i = bpp; i < row.Length; i++) row[i] += row[i - bpp];
                break;
            case 2:
                for (int i = 0; i < row.Length; i++) row[i] += prior[i];
                break;
            case 3:
                for (int i = 0; i < row.Length; i++)
                {
                    int left = i >= bpp ? row[i - bpp] : 0;
                    row[i] += (byte)((left + prior[i]) >> 1);
                }
                break;
            case 4:
                for (int i = 0; i < row.Length; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0, b = prior[i], c = i >= bpp ? prior[i - bpp] : 0;
                    int p = a + b - c;
                    int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                break;
            default: throw new InvalidDataException($"{source}: corrupt PNG: row filter type {filter}.");
        }
    }

    /// <summary>Converts one unfiltered row of <paramref name="count"/> pixels to RGB at row y, columns x0, x0+dx, ...</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ExpandRow(ReadOnlySpan<byte> row, int count, int colorType, int depth, byte[]? palette,
        byte[] rgb, int width, int y, int x0, int dx)
    {
        long baseIndex = (long)y * width * 3;
        for (int i = 0; i < count; i++)
        {
            long o = baseIndex + (long)(x0 + i * dx) * 3;
            byte r, g, b;
            switch (colorType)
            {
                case 0:
                    r = g = b = depth switch
                    {
                        16 => row[2 * i],
                        8 => row[i],
                        _ => (byte)(Sample(row, i, depth) * (255 / ((1 << depth) - 1))),
                    };
                    break;
                case 2:
                    {
                        int s = depth / 8; // high byte comes first
                        r = row[3 * s * i];
                        g = row[3 * s * i + s];
                        b = row[3 * s * i + 2 * s];
                        break;
                    }
                case 3:
                    {
                        int index = depth == 8 ? row[i] : Sample(row, i, depth);
                        if (3 * index + 2 < palette!.Length)
                        {
                            r = palette[3 * index];
                            g = palette[3 * index + 1];
                            b = palette[3 * index + 2];
                        }
                        else r = g = b = (byte)index;
                        break;
                    }
                case 4:
                    r = g = b = row[2 * (depth / 8) * i];
                    break;
                default:
                    {
                        int s = depth / 8;
                        r = row[4 * s * i];
                        g = row[4 * s * i + s];
                        b = row[4 * s * i + 2 * s];
                        break;
                    }
            }
            rgb[o] = r;
            rgb[o + 1] = g;
            rgb[o + 2] = b;
        }
    }

    /// <summary>The i-th sample of a packed row of 1, 2 or 4-bit samples (most significant bits first).</summary>
    private static int Sample(ReadOnlySpan<byte> row, int i, int depth)
    {
        int bit = i * depth;
        int shift = 8 - depth - (bit & 7);
        return (row[bit >> 3] >> shift) & ((1 << depth) - 1);
    }
}
