namespace CrossModal.Fuzz;

/// <summary>One generated input: the seed it came from, its files (mutated) and how they were mutated.</summary>
/// <param name="Index">Position in the target's sequence (0-based): the same index always gives the same input.</param>
/// <param name="Seed">The seed's name.</param>
/// <param name="Files">File name to (mutated) content.</param>
/// <param name="How">The mutations applied, e.g. "train_caps.txt: number@120=2147483648+flip2@7".</param>
public sealed record FuzzInput(int Index, string Seed, IReadOnlyDictionary<string, byte[]> Files, string How)
{
    /// <summary>Total bytes of all files: what the allocation budget is derived from.</summary>
    public long TotalBytes => Files.Values.Sum(b => (long)b.Length);

    /// <summary>The content of a one-file input.</summary>
    public byte[] Bytes => Files.Values.First();

    /// <summary>The same input with one file replaced.</summary>
    public FuzzInput With(string file, byte[] bytes, string how)
    {
        var files = new Dictionary<string, byte[]>(Files) { [file] = bytes };
        return this with { Files = files, How = how };
    }
}
