using System.Globalization;
using System.Numerics;
using System.Text;

namespace CrossModal.Checkpoints.Pickle;

/// <summary>Decoding of the textual pickle arguments (protocol 0) and of Python 2 byte strings.</summary>
internal static class PickleText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes UTF-8 (as pickle's str opcodes require); null when the bytes are not valid UTF-8.</summary>
    public static string? TryUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>
    /// A Python 2 <c>str</c> (a byte string): UTF-8 when valid, else Latin-1. Both are reversible, which
    /// <see cref="RecoverBytes"/> relies on for numpy scalars stored as byte strings.
    /// </summary>
    public static string Py2String(ReadOnlySpan<byte> bytes) => TryUtf8(bytes) ?? Encoding.Latin1.GetString(bytes);

    /// <summary>The original bytes of a <see cref="Py2String"/> result that had <paramref name="length"/> bytes, or null.</summary>
    public static byte[]? RecoverBytes(string s, int length)
    {
        if (s.Length == length && s.All(c => c <= '\u00ff')) return Encoding.Latin1.GetBytes(s);
        var utf8 = Encoding.UTF8.GetBytes(s);
        return utf8.Length == length ? utf8 : null;
    }

    /// <summary>Parses a protocol-0 integer ("I"/"L" argument, optional trailing L); null if malformed.</summary>
    public static object? ParseInteger(string text)
    {
        if (text.EndsWith('L')) text = text[..^1];
        if (text.Length == 0) return null;
        int start = text[0] is '-' or '+' ? 1 : 0;
        if (start == text.Length) return null;
        for (int i = start; i < text.Length; i++)
            if (text[i] is < '0' or > '9') return null;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
        return Normalize(BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
    }

    /// <summary>A Python int as long when it fits, else BigInteger.</summary>
    public static object Normalize(BigInteger value) =>
        value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;

    /// <summary>Parses a protocol-0 float (Python repr, including inf/nan); null if malformed.</summary>
    public static double? ParseFloat(string text)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "inf" or "+inf" or "infinity": return double.PositiveInfinity;
            case "-inf" or "-infinity": return double.NegativeInfinity;
            case "nan" or "+nan" or "-nan": return double.NaN;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : null;
    }

    /// <summary>Decodes a quoted Python 2 string literal (STRING opcode) to bytes; null if malformed.</summary>
    public static byte[]? ParseQuotedBytes(ReadOnlySpan<byte> line)
    {
        if (line.Length < 2 || line[0] != line[^1] || line[0] is not ((byte)'\'' or (byte)'"')) return null;
        var body = line[1..^1];
        var result = new List<byte>(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            byte b = body[i];
            if (b != (byte)'\\')
            {
                result.Add(b);
                continue;
            }
            if (++i >= body.Length) return null;
            byte e = body[i];
            switch ((char)e)
            {
                case '\\': result.Add((byte)'\\'); break;
                case '\'': result.Add((byte)'\''); break;
                case '"': result.Add((byte)'"'); break;
                case 'n': result.Add((byte)'\n'); break;
                case 'r': result.Add((byte)'\r'); break;
                case 't': result.Add((byte)'\t'); break;
                case 'a': result.Add(7); break;
                case 'b': result.Add(8); break;
                case 'f': result.Add(12); break;
                case 'v': result.Add(11); break;
                case '\n': break;
                case 'x':
                    if (i + 2 >= body.Length) return null;
                    int hi = Hex(body[i + 1]), lo = Hex(body[i + 2]);
                    if (hi < 0 || lo < 0) return null;
                    result.Add((byte)(hi * 16 + lo));
                    i += 2;
                    break;
                case >= '0' and <= '7':
                {
                    int value = e - '0', n = 1;
                    while (n < 3 && i + 1 < body.Length && body[i + 1] is >= (byte)'0' and <= (byte)'7')
                    {
                        value = value * 8 + (body[++i] - '0');
                        n++;
                    }
                    result.Add((byte)(value & 0xff));
                    break;
                }
                default:
                    // Python keeps unknown escapes verbatim.
                    result.Add((byte)'\\');
                    result.Add(e);
                    break;
            }
        }
        return result.ToArray();
    }

    /// <summary>Decodes Python's raw-unicode-escape (UNICODE opcode); null if malformed.</summary>
    public static string? ParseRawUnicodeEscape(ReadOnlySpan<byte> line)
    {
        var sb = new StringBuilder(line.Length);
        for (int i = 0; i < line.Length; i++)
        {
            byte b = line[i];
            if (b == (byte)'\\' && i + 1 < line.Length && line[i + 1] is (byte)'u' or (byte)'U')
            {
                int digits = line[i + 1] == (byte)'u' ? 4 : 8;
                if (i + 1 + digits >= line.Length) return null;
                int cp = 0;
                for (int k = 0; k < digits; k++)
                {
                    int h = Hex(line[i + 2 + k]);
                    if (h < 0) return null;
                    cp = cp * 16 + h;
                }
                if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF && digits == 8)) return null;
                if (cp >= 0xD800 && cp <= 0xDFFF) sb.Append((char)cp);
                else sb.Append(char.ConvertFromUtf32(cp));
                i += 1 + digits;
                continue;
            }
            sb.Append((char)b);
        }
        return sb.ToString();
    }

    private static int Hex(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}
