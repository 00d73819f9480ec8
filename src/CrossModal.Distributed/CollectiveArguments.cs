namespace CrossModal.Distributed;

/// <summary>Argument checks shared by the communicators (one clear message instead of a hang or a crash inside MPI).</summary>
internal static class CollectiveArguments
{
    /// <summary>Checks per-rank counts against this rank's block and the concatenation; returns the total.</summary>
    public static int CheckCounts(ReadOnlySpan<int> counts, int size, int rank, int localLength, int resultLength, string operation, bool resultRequired = true)
    {
        if (counts.Length != size) throw new ArgumentException($"{operation}: {counts.Length} counts for {size} ranks.");
        long total = 0;
        foreach (int c in counts)
        {
            if (c < 0) throw new ArgumentException($"{operation}: negative count {c}.");
            total += c;
        }
        if (total > int.MaxValue) throw new ArgumentException($"{operation}: {total} elements exceed one call's limit of 2^31 - 1.");
        if (localLength != counts[rank]) throw new ArgumentException($"{operation}: rank {rank} holds {localLength} elements, its count says {counts[rank]}.");
        if (resultRequired && resultLength != total) throw new ArgumentException($"{operation}: the result holds {resultLength} elements, the counts add up to {total}.");
        return (int)total;
    }

    /// <summary>Checks a root rank.</summary>
    public static void CheckRoot(int root, int size, string operation)
    {
        if ((uint)root >= (uint)size) throw new ArgumentOutOfRangeException(nameof(root), root, $"{operation}: root must be in 0..{size - 1}.");
    }
}
