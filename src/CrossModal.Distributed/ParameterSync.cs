using CrossModal.Tensors;

namespace CrossModal.Distributed;

/// <summary>
/// Keeping the ranks' copies of the weights identical: <see cref="Broadcast"/> copies rank 0's tensors to every rank
/// (at the start of a run, so even ranks whose machines initialise differently start from the same weights), and
/// <see cref="CheckIdentical"/> compares a checksum of every rank's tensors (the all-reduced gradients and the
/// deterministic optimizer keep them bit-identical; a difference means a bug or a faulty machine, and continuing would
/// train N different models).
/// </summary>
public static class ParameterSync
{
    /// <summary>Copies <paramref name="tensors"/> from <paramref name="root"/> to every rank, in place.</summary>
    public static void Broadcast(ICommunicator ranks, IEnumerable<Tensor> tensors, int root = 0)
    {
        if (ranks.Size == 1) return;
        foreach (var t in tensors) ranks.Broadcast<float>(t.Data, root);
    }

    /// <summary>
    /// Throws the same <see cref="InvalidOperationException"/> on every rank when the ranks' <paramref name="tensors"/>
    /// differ in any bit; <paramref name="what"/> says where (e.g. "after epoch 3").
    /// </summary>
    public static void CheckIdentical(ICommunicator ranks, IEnumerable<Tensor> tensors, string what)
    {
        if (ranks.Size == 1) return;
        var sums = new long[ranks.Size];
        long mine = (long)Checksum(tensors);
        ranks.AllGatherV<long>(new[] { mine }, sums, Enumerable.Repeat(1, ranks.Size).ToArray());
        for (int r = 1; r < sums.Length; r++)
            if (sums[r] != sums[0])
                throw new InvalidOperationException($"The ranks' weights differ {what} (rank {r}'s checksum {sums[r]:x16}, rank 0's {sums[0]:x16}); the ranks no longer train one model.");
    }

    /// <summary>FNV-1a over the bits of every element, in order.</summary>
    public static ulong Checksum(IEnumerable<Tensor> tensors)
    {
        ulong h = 14695981039346656037UL;
        foreach (var t in tensors)
            foreach (float v in t.Data)
            {
                h ^= BitConverter.SingleToUInt32Bits(v);
                h *= 1099511628211UL;
            }
        return h;
    }
}
