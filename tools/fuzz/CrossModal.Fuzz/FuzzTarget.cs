using CrossModal.Tensors;

namespace CrossModal.Fuzz;

/// <summary>
/// One parser under test: its seeds, how its inputs are mutated, how it is called, and the allocation it may make.
/// A pass for one input means the parser returned, or threw <see cref="InvalidDataException"/> whose message starts
/// with the input's name (a byte parser) or a path in the input's folder (a file parser); any other exception, an
/// allocation above <see cref="Budget"/>, or a hang is a failure.
/// </summary>
public sealed class FuzzTarget
{
    /// <summary>Short name (the --parser value), e.g. "jpeg".</summary>
    public required string Name { get; init; }

    /// <summary>The API called, for the report, e.g. "ImageDecoder.Decode (JpegDecoder)".</summary>
    public required string Api { get; init; }

    /// <summary>Valid inputs to mutate.</summary>
    public required IReadOnlyList<FuzzSeed> Seeds { get; init; }

    /// <summary>Makes one input from a seed with the given generator (the runner sets the index).</summary>
    public required Func<FuzzSeed, Rng, (IReadOnlyDictionary<string, byte[]> Files, string How)> Mutate { get; init; }

    /// <summary>
    /// True: the runner writes the input's files into an empty folder and passes the folder; false: the parser reads
    /// bytes from memory and gets the input's name (for its messages) as the second argument.
    /// </summary>
    public required bool OnDisk { get; init; }

    /// <summary>Calls the parser: (input, folder or name).</summary>
    public required Action<FuzzInput, string> Parse { get; init; }

    /// <summary>Allocation allowed per input byte (the format's largest legitimate expansion, with a margin).</summary>
    public required double BytesPerInputByte { get; init; }

    /// <summary>Allocation allowed on top (buffers of fixed size, small tables).</summary>
    public long FixedBytes { get; init; } = 4L << 20;

    /// <summary>Why the budget is what it is (shown by --list and in the README).</summary>
    public required string BudgetReason { get; init; }

    /// <summary>
    /// Inputs CI runs (the first ones of the same sequence): more for fast parsers, fewer for those that open a folder
    /// of files per input, so the share stays within seconds.
    /// </summary>
    public int CiInputs { get; init; } = 300;

    /// <summary>The most an input of <paramref name="inputBytes"/> bytes may allocate.</summary>
    public long Budget(long inputBytes) => (long)(BytesPerInputByte * inputBytes) + FixedBytes;
}
