using System.Text;
using System.Text.Unicode;

namespace CrossModal.Text;

/// <summary>
/// Reads UTF-8 text files line by line the way the originals read caption files (binary mode, split on '\n'):
/// a final newline does not start another line, a trailing '\r' is removed, a leading byte-order mark is
/// skipped. Invalid UTF-8 is one clear error naming the file and the line.
/// </summary>
public static class TextLines
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>All lines of the file at <paramref name="path"/>.</summary>
    public static string[] Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>All lines of <paramref name="stream"/> (read to its end); <paramref name="name"/> names it in errors.</summary>
    public static string[] Read(Stream stream, string name)
    {
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Decode(ms.GetBuffer().AsSpan(0, (int)ms.Length), name);
    }

    /// <summary>Splits UTF-8 bytes into lines; <paramref name="name"/> names the source in errors.</summary>
    public static string[] Decode(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.StartsWith("\xEF\xBB\xBF"u8)) bytes = bytes[3..];
        if (!Utf8.IsValid(bytes)) throw InvalidLine(bytes, name);
        string text = Strict.GetString(bytes);
        if (text.Length == 0) return [];
        var lines = text.Split('\n');
        int count = lines.Length;
        if (lines[^1].Length == 0) count--;
        var result = new string[count];
        for (int i = 0; i < count; i++)
        {
            string l = lines[i];
            result[i] = l.Length > 0 && l[^1] == '\r' ? l[..^1] : l;
        }
        return result;
    }

    // Finds the first line that does not decode and says where.
    private static InvalidDataException InvalidLine(ReadOnlySpan<byte> bytes, string name)
    {
        int line = 1, start = 0;
        while (start <= bytes.Length)
        {
            int nl = bytes[start..].IndexOf((byte)'\n');
            int end = nl < 0 ? bytes.Length : start + nl;
            var lineBytes = bytes[start..end];
            if (!Utf8.IsValid(lineBytes))
            {
                var chars = new char[lineBytes.Length];
                Utf8.ToUtf16(lineBytes, chars, out int bad, out _, replaceInvalidSequences: false);
                bad = Math.Min(bad, lineBytes.Length - 1);
                return new InvalidDataException(
                    $"{name}: line {line} is not valid UTF-8 (byte 0x{lineBytes[bad]:X2} near byte {bad + 1} of the line); captions must be UTF-8 text.");
            }
            if (nl < 0) break;
            start = end + 1;
            line++;
        }
        return new InvalidDataException($"{name}: not valid UTF-8.");
    }
}
