using CrossModal.Distributed;
using CrossModal.Models;

namespace CrossModal.Evaluation;

/// <summary>
/// Encoded items (<see cref="EmbeddingSet"/>: one row per item, or one per region or word) moved between ranks
/// without changing a bit: first every item's row count, then the packed float32 rows, each rank's items in rank
/// order. The sharded evaluator all-gathers the captions with it; the sharded index build gathers each round's
/// encoded batches at rank 0.
/// </summary>
public static class EmbeddingExchange
{
    /// <summary>
    /// Every rank's <paramref name="local"/> items (rank r holds <paramref name="counts"/>[r]) concatenated in rank
    /// order, on every rank.
    /// </summary>
    public static EmbeddingSet AllGather(ICommunicator ranks, EmbeddingSet local, ReadOnlySpan<int> counts) =>
        Exchange(ranks, local, counts, root: -1)!;

    /// <summary>
    /// Every rank's <paramref name="local"/> items concatenated in rank order at <paramref name="root"/> (null on the
    /// other ranks).
    /// </summary>
    public static EmbeddingSet? Gather(ICommunicator ranks, EmbeddingSet local, ReadOnlySpan<int> counts, int root = 0) =>
        Exchange(ranks, local, counts, root);

    /// <summary>root -1: all-gather.</summary>
    private static EmbeddingSet? Exchange(ICommunicator ranks, EmbeddingSet local, ReadOnlySpan<int> counts, int root)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        ArgumentNullException.ThrowIfNull(local);
        if (counts.Length != ranks.Size) throw new ArgumentException($"{counts.Length} item counts for {ranks.Size} ranks.");
        if (local.Count != counts[ranks.Rank])
            throw new ArgumentException($"Rank {ranks.Rank} holds {local.Count} encoded items, its count says {counts[ranks.Rank]}.");
        bool receives = root < 0 || root == ranks.Rank;
        int total = 0;
        foreach (int c in counts) total = checked(total + c);
        int dim = local.Dim;
        // Item lengths (rows of dim floats: words or regions, 1 for one vector) on every rank (a few bytes per item;
        // every rank then knows every rank's float count), then the packed rows.
        var lengths = new int[total];
        var myLengths = new int[local.Count];
        for (int i = 0; i < myLengths.Length; i++) myLengths[i] = local.Length(i);
        ranks.AllGatherV<int>(myLengths, lengths, counts);
        var floatCounts = new int[ranks.Size];
        long floats = 0;
        for (int r = 0, at = 0; r < ranks.Size; r++)
        {
            long rows = 0;
            for (int i = 0; i < counts[r]; i++) rows += lengths[at + i];
            at += counts[r];
            floatCounts[r] = checked((int)(rows * dim));
            floats += floatCounts[r];
        }
        var all = new float[receives ? checked((int)floats) : 0];
        var mine = local.Items(0, local.Count);
        if (root < 0) ranks.AllGatherV<float>(mine, all, floatCounts);
        else ranks.GatherV<float>(mine, all, floatCounts, root);
        if (!receives) return null;
        var result = new EmbeddingSet(dim, all.Length);
        int pos = 0;
        for (int i = 0; i < total; i++)
        {
            int len = lengths[i] * dim;
            result.Append(all.AsSpan(pos, len));
            pos += len;
        }
        return result;
    }
}
