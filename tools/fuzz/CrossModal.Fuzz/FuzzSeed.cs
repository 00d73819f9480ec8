namespace CrossModal.Fuzz;

/// <summary>
/// A valid input the mutations start from: a named set of files (one file for single-file formats, a small data
/// folder for formats that span several files, such as a precomp split or a labelled-pairs split).
/// </summary>
/// <param name="Name">Where the seed comes from (a fixture path or a generated name).</param>
/// <param name="Files">File name to content.</param>
public sealed record FuzzSeed(string Name, IReadOnlyDictionary<string, byte[]> Files)
{
    /// <summary>A one-file seed; the file keeps the seed's file name.</summary>
    public static FuzzSeed Single(string name, byte[] bytes) => new(name, new Dictionary<string, byte[]> { [Path.GetFileName(name)] = bytes });

    /// <summary>The content of a one-file seed.</summary>
    public byte[] Bytes => Files.Count == 1 ? Files.Values.First() : throw new InvalidOperationException($"{Name} holds {Files.Count} files.");
}
