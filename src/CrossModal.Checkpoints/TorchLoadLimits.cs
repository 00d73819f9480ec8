namespace CrossModal.Checkpoints;

/// <summary>
/// Bounds that keep a corrupt or hostile checkpoint from exhausting memory. Every length in the file is also
/// checked against the bytes actually present before anything is allocated; these limits cover what a length
/// check cannot (how many objects a pickle builds, how far tensor views may expand their storage).
/// The defaults are far above what real checkpoints need (VSE++/SCAN pickles hold a few hundred objects).
/// </summary>
public sealed record TorchLoadLimits
{
    /// <summary>The defaults.</summary>
    public static TorchLoadLimits Default { get; } = new();

    /// <summary>Most items (plus marks) on the unpickler's stack at once.</summary>
    public int MaxStackItems { get; init; } = 1 << 20;

    /// <summary>Most memo entries.</summary>
    public int MaxMemoEntries { get; init; } = 1 << 22;

    /// <summary>Longest pickled integer in bytes (LONG1/LONG4) or digits (protocol 0).</summary>
    public int MaxIntegerBytes { get; init; } = 1024;

    /// <summary>Longest protocol-0 text argument (a line) in bytes.</summary>
    public int MaxLineBytes { get; init; } = 1 << 20;

    /// <summary>Largest pickle (zip data.pkl) read into memory, in bytes.</summary>
    public long MaxPickleBytes { get; init; } = 1L << 30;

    /// <summary>
    /// Float32 elements that all tensors together may materialise, as a multiple of the file's size in bytes
    /// (plus <see cref="TensorElementAllowance"/>). Tensors that view their storages without expanding them
    /// stay below 1x; only stride-0 expansion can exceed it.
    /// </summary>
    public double TensorElementsPerFileByte { get; init; } = 4.0;

    /// <summary>Elements allowed on top of <see cref="TensorElementsPerFileByte"/> (for tiny files).</summary>
    public long TensorElementAllowance { get; init; } = 1 << 20;

    internal long TensorElementBudget(long fileBytes) =>
        (long)Math.Min(long.MaxValue / 2, fileBytes * TensorElementsPerFileByte) + TensorElementAllowance;
}
