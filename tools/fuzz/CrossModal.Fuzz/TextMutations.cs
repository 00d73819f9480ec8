using System.Text;
using CrossModal.Tensors;

namespace CrossModal.Fuzz;

/// <summary>
/// Mutations for text formats (JSON, caption and label files, .npy headers), applied to the UTF-8 bytes: numbers
/// replaced by extreme ones, structural characters and invalid UTF-8 inserted, lines duplicated, deleted, emptied
/// or swapped, long runs and deep nesting; mixed with the byte-level mutations.
/// </summary>
public static class TextMutations
{
    private static readonly string[] Numbers =
    [
        "0", "-1", "1", "2", "4", "-2147483648", "2147483647", "2147483648", "4294967296", "9223372036854775807",
        "18446744073709551616", "99999999999999999999999999", "1e309", "-1e309", "NaN", "Infinity", "1.5", "1e-45", "00", "0x10",
    ];

    private static readonly string[] Tokens =
    [
        "\"", "\\", "{", "}", "[", "]", ",", ":", "\n", "\r\n", "\r", "\t", " ", "\\u0000", "\\ud800", "\\uffff", "<unk>", "<pad>",
        "null", "true", "\"\"", "{}", "[]", "'", "(", ")", "L", "\u00e9", "\u4e2d", "\u200b", "\ufeff", ".", "-", "#",
    ];

    /// <summary>One to three mutations, each a text mutation (3 in 4) or a byte mutation.</summary>
    public static Mutation Mutate(byte[] original, Rng rng)
    {
        var bytes = new List<byte>(original);
        var how = new List<string>();
        int rounds = 1 + rng.NextInt(3);
        for (int r = 0; r < rounds; r++)
            how.Add(rng.NextInt(4) < 3 ? MutateOnce(bytes, rng) : ByteMutations.MutateOnce(bytes, rng, int.MaxValue));
        return new Mutation(bytes.ToArray(), string.Join("+", how));
    }

    /// <summary>One text mutation in place; returns its description.</summary>
    public static string MutateOnce(List<byte> bytes, Rng rng)
    {
        switch (rng.NextInt(8))
        {
            case 0:
            case 1:
            {
                // Replace a run of digits (with its sign) by an extreme number.
                var runs = DigitRuns(bytes);
                string number = Numbers[rng.NextInt(Numbers.Length)];
                if (runs.Count == 0) return Insert(bytes, rng, number);
                var (start, length) = runs[rng.NextInt(runs.Count)];
                bytes.RemoveRange(start, length);
                bytes.InsertRange(start, Encoding.UTF8.GetBytes(number));
                return $"number@{start}={number}";
            }
            case 2:
            case 3:
                return Insert(bytes, rng, Tokens[rng.NextInt(Tokens.Length)]);
            case 4:
            {
                // Raw bytes no UTF-8 text may contain, or a truncated sequence.
                byte[] bad = rng.NextInt(4) switch { 0 => [0xFF], 1 => [0xC3], 2 => [0xE2, 0x82], _ => [0x00] };
                int at = rng.NextInt(bytes.Count + 1);
                bytes.InsertRange(at, bad);
                return $"badutf8@{at}";
            }
            case 5:
            {
                var lines = Lines(bytes);
                if (lines.Count == 0) return Insert(bytes, rng, "\n");
                var (start, length) = lines[rng.NextInt(lines.Count)];
                var line = bytes.GetRange(start, length);
                switch (rng.NextInt(4))
                {
                    case 0:
                        bytes.InsertRange(start, line);
                        return $"dupline@{start}";
                    case 1:
                        bytes.RemoveRange(start, length);
                        return $"delline@{start}";
                    case 2:
                    {
                        int keep = line.Count > 0 && line[^1] == (byte)'\n' ? 1 : 0;
                        bytes.RemoveRange(start, length - keep);
                        return $"emptyline@{start}";
                    }
                    default:
                    {
                        var (start2, length2) = lines[rng.NextInt(lines.Count)];
                        if (start2 == start) return $"swapline@{start}=self";
                        var (a, b) = start < start2 ? ((start, length), (start2, length2)) : ((start2, length2), (start, length));
                        var first = bytes.GetRange(a.Item1, a.Item2);
                        var second = bytes.GetRange(b.Item1, b.Item2);
                        bytes.RemoveRange(b.Item1, b.Item2);
                        bytes.InsertRange(b.Item1, first);
                        bytes.RemoveRange(a.Item1, a.Item2);
                        bytes.InsertRange(a.Item1, second);
                        return $"swaplines@{a.Item1},{b.Item1}";
                    }
                }
            }
            case 6:
            {
                // A long run: a repeated chunk of the text (or a structural character), up to 2,000 times.
                int at = rng.NextInt(bytes.Count + 1);
                int times = 1 + rng.NextInt(2000);
                byte[] unit;
                if (bytes.Count > 0 && rng.NextInt(2) == 0)
                {
                    int from = rng.NextInt(bytes.Count);
                    unit = bytes.GetRange(from, 1 + rng.NextInt(Math.Min(8, bytes.Count - from))).ToArray();
                }
                else unit = Encoding.UTF8.GetBytes(Tokens[rng.NextInt(8)]);
                var run = new byte[unit.Length * times];
                for (int i = 0; i < times; i++) unit.CopyTo(run, i * unit.Length);
                bytes.InsertRange(Math.Min(at, bytes.Count), run);
                return $"run{times}x{unit.Length}@{at}";
            }
            default:
            {
                // Truncate at a line or token boundary, or drop one character.
                int at = rng.NextInt(bytes.Count + 1);
                if (rng.NextInt(2) == 0)
                {
                    bytes.RemoveRange(at, bytes.Count - at);
                    return $"cut@{at}";
                }
                if (at < bytes.Count) bytes.RemoveAt(at);
                return $"drop@{at}";
            }
        }
    }

    private static string Insert(List<byte> bytes, Rng rng, string token)
    {
        int at = rng.NextInt(bytes.Count + 1);
        bytes.InsertRange(at, Encoding.UTF8.GetBytes(token));
        return $"insert@{at}={Escape(token)}";
    }

    private static string Escape(string s) => s.Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");

    private static List<(int Start, int Length)> DigitRuns(List<byte> bytes)
    {
        var runs = new List<(int, int)>();
        for (int i = 0; i < bytes.Count; i++)
        {
            if (!IsDigit(bytes[i])) continue;
            int start = i > 0 && bytes[i - 1] == (byte)'-' ? i - 1 : i;
            while (i < bytes.Count && (IsDigit(bytes[i]) || bytes[i] is (byte)'.' or (byte)'e' or (byte)'E')) i++;
            runs.Add((start, i - start));
        }
        return runs;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static List<(int Start, int Length)> Lines(List<byte> bytes)
    {
        var lines = new List<(int, int)>();
        int start = 0;
        for (int i = 0; i < bytes.Count; i++)
        {
            if (bytes[i] != (byte)'\n') continue;
            lines.Add((start, i + 1 - start));
            start = i + 1;
        }
        if (start < bytes.Count) lines.Add((start, bytes.Count - start));
        return lines;
    }
}
