using System.Text;
using System.Text.RegularExpressions;

namespace CrossModal.Tensors.IO;

/// <summary>
/// The header of a NumPy .npy file (format versions 1.0, 2.0 and 3.0): element type, shape, and where the raw
/// little-endian C-order data starts. Only '&lt;f4', '&lt;f8', '&lt;i4', '&lt;i8' (and '|u1', '|b1') are accepted.
/// </summary>
public sealed partial record NpyHeader(string Descr, int[] Shape, long DataOffset)
{
    // The magic is the byte 0x93 followed by ASCII "NUMPY" (a u8 string literal would encode U+0093 as two bytes).
    private static ReadOnlySpan<byte> Magic => new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Bytes per element.</summary>
    public int ElementSize => Descr switch { "<f4" or "<i4" => 4, "<f8" or "<i8" => 8, _ => 1 };

    /// <summary>Element count.</summary>
    public long Count
    {
        get
        {
            long n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Reads and validates the header at the start of <paramref name="stream"/>.</summary>
    public static NpyHeader Read(Stream stream, string path)
    {
        Span<byte> pre = stackalloc byte[10];
        if (ReadFully(stream, pre) < 10 || !pre[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a .npy file (the magic string \\x93NUMPY is missing).");
        int major = pre[6];
        long headerLength;
        int prefix;
        if (major == 1)
        {
            headerLength = pre[8] | (pre[9] << 8);
            prefix = 10;
        }
        else if (major is 2 or 3)
        {
            Span<byte> more = stackalloc byte[2];
            if (ReadFully(stream, more) < 2) throw new InvalidDataException($"{path}: truncated .npy header.");
            headerLength = (uint)(pre[8] | (pre[9] << 8) | (more[0] << 16) | (more[1] << 24));
            prefix = 12;
        }
        else throw new InvalidDataException($"{path}: unsupported .npy format version {major}.{pre[7]} (expected 1.0, 2.0 or 3.0).");
        if (headerLength > 1 << 24) throw new InvalidDataException($"{path}: .npy header length {headerLength} is implausible.");
        var buf = new byte[headerLength];
        if (ReadFully(stream, buf) < headerLength) throw new InvalidDataException($"{path}: truncated .npy header (expected {headerLength} bytes).");
        string text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(buf);
        return Parse(text, path, prefix + headerLength);
    }

    internal static NpyHeader Parse(string text, string path, long dataOffset)
    {
        var descr = DescrRegex().Match(text);
        var fortran = FortranRegex().Match(text);
        var shape = ShapeRegex().Match(text);
        if (!descr.Success || !fortran.Success || !shape.Success)
            throw new InvalidDataException($"{path}: .npy header does not parse (expected 'descr', 'fortran_order' and 'shape'): {text.Trim()}");
        string d = descr.Groups[1].Value;
        if (d is "<f4" or "<f8" or "<i4" or "<i8" or "|u1" or "|b1") { }
        else throw new InvalidDataException($"{path}: unsupported dtype '{d}' (expected little-endian float32 '<f4', float64 '<f8', int32 '<i4' or int64 '<i8').");
        if (fortran.Groups[1].Value == "True")
            throw new InvalidDataException($"{path}: Fortran-order arrays are not supported; save with np.ascontiguousarray (C order).");
        var dims = new List<int>();
        foreach (var part in shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string p = part.TrimEnd('L');
            if (!long.TryParse(p, out long v) || v < 0 || v > int.MaxValue)
                throw new InvalidDataException($"{path}: bad dimension '{part}' in shape ({shape.Groups[1].Value}).");
            dims.Add((int)v);
        }
        // The element count must not wrap around: no file holds 2^60 bytes, so a larger shape is corrupt.
        long count = 1;
        foreach (int v in dims)
        {
            if (v == 0) { count = 0; break; }
            if (count > (1L << 60) / v)
                throw new InvalidDataException($"{path}: shape ({shape.Groups[1].Value}) has more elements than any file can hold.");
            count *= v;
        }
        return new NpyHeader(d, dims.ToArray(), dataOffset);
    }

    /// <summary>Serialises a version 1.0 header (padded so the data starts at a multiple of 64 bytes).</summary>
    public static byte[] Build(string descr, ReadOnlySpan<int> shape)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray());
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        var bytes = new byte[10 + header.Length];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        bytes[8] = (byte)(header.Length & 0xff);
        bytes[9] = (byte)(header.Length >> 8);
        Encoding.Latin1.GetBytes(header, 0, header.Length, bytes, 10);
        return bytes;
    }

    private static int ReadFully(Stream s, Span<byte> buf)
    {
        int total = 0;
        while (total < buf.Length)
        {
            int n = s.Read(buf[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]*)['""]")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
