using CrossModal.Tensors;

namespace CrossModal.Fuzz;

/// <summary>
/// Format-blind mutations of a file's bytes: bit flips, truncation, inserted random bytes, deletions, extreme
/// values written over what may be a length, count, offset or index field, and duplicated chunks; one to three of
/// them per input. Half land in the first <c>focus</c> bytes, where headers, pickles and tables live.
/// </summary>
public static class ByteMutations
{
    /// <summary>One to three random mutations of <paramref name="original"/>.</summary>
    public static Mutation Mutate(byte[] original, Rng rng, int focus = 4096)
    {
        var bytes = new List<byte>(original);
        var how = new List<string>();
        int rounds = 1 + rng.NextInt(3);
        for (int r = 0; r < rounds; r++) how.Add(MutateOnce(bytes, rng, focus));
        return new Mutation(bytes.ToArray(), string.Join("+", how));
    }

    /// <summary>One mutation in place; returns its description.</summary>
    public static string MutateOnce(List<byte> bytes, Rng rng, int focus = 4096)
    {
        if (bytes.Count == 0)
        {
            int n = 1 + rng.NextInt(16);
            for (int i = 0; i < n; i++) bytes.Add((byte)rng.NextInt(256));
            return $"fill{n}";
        }
        int span = rng.NextInt(2) == 0 ? Math.Min(bytes.Count, focus) : bytes.Count;
        int at = rng.NextInt(span);
        switch (rng.NextInt(6))
        {
            case 0:
            {
                int flips = 1 + rng.NextInt(4);
                for (int k = 0; k < flips; k++)
                {
                    int p = Math.Min(bytes.Count - 1, at + rng.NextInt(16));
                    bytes[p] ^= (byte)(1 << rng.NextInt(8));
                }
                return $"flip{flips}@{at}";
            }
            case 1:
            {
                int cut = rng.NextInt(bytes.Count);
                bytes.RemoveRange(cut, bytes.Count - cut);
                return $"cut@{cut}";
            }
            case 2:
            {
                int n = 1 + rng.NextInt(16);
                for (int i = 0; i < n; i++) bytes.Insert(at, (byte)rng.NextInt(256));
                return $"insert{n}@{at}";
            }
            case 3:
            {
                int n = Math.Min(bytes.Count - at, 1 + rng.NextInt(16));
                bytes.RemoveRange(at, n);
                return $"delete{n}@{at}";
            }
            case 4:
            {
                int width = new[] { 1, 2, 4, 8 }[rng.NextInt(4)];
                byte[] pattern = rng.NextInt(4) switch
                {
                    0 => Enumerable.Repeat((byte)0xff, width).ToArray(),
                    1 => Enumerable.Repeat((byte)0xff, width - 1).Append((byte)0x7f).ToArray(),
                    2 => Enumerable.Repeat((byte)0x00, width - 1).Append((byte)0x80).ToArray(),
                    _ => new byte[width],
                };
                // Big-endian formats (JPEG, PNG) read the high byte first: reverse half of the time.
                if (rng.NextInt(2) == 0) Array.Reverse(pattern);
                for (int k = 0; k < width && at + k < bytes.Count; k++) bytes[at + k] = pattern[k];
                return $"extreme{width}@{at}";
            }
            default:
            {
                int n = Math.Min(bytes.Count - at, 1 + rng.NextInt(64));
                var chunk = bytes.GetRange(at, n);
                bytes.InsertRange(rng.NextInt(bytes.Count + 1), chunk);
                return $"dup{n}@{at}";
            }
        }
    }
}
