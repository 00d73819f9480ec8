namespace CrossModal.Distributed;

/// <summary>
/// How work is split among ranks. <see cref="Contiguous"/> gives each rank one range of items in whole blocks of
/// <c>align</c> items (the sharded evaluator aligns to the encoding batch and the scoring shard, so every rank's blocks
/// are exactly blocks of the one-process computation and the results are bit-identical; an index build can use it the
/// same way for its gallery). (The training batch is dealt out differently, round-robin over
/// the length-sorted rows: see CrossModal.Data.BatchShard.)
/// </summary>
public static class Partition
{
    /// <summary>
    /// Rank <paramref name="rank"/>'s range [Start, End) of <paramref name="count"/> items cut into blocks of
    /// <paramref name="align"/> (the last block may be shorter): the blocks are shared as evenly as possible, the
    /// first ranks taking one more when they do not divide. A rank may get an empty range.
    /// </summary>
    public static (int Start, int End) Contiguous(int count, int rank, int ranks, int align = 1)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "The count must not be negative.");
        if (ranks < 1 || (uint)rank >= (uint)ranks) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"Rank must be in 0..{ranks - 1}.");
        if (align < 1) throw new ArgumentOutOfRangeException(nameof(align), align, "Blocks must hold at least one item.");
        long blocks = ((long)count + align - 1) / align;
        long perRank = blocks / ranks, extra = blocks % ranks;
        long firstBlock = rank * perRank + Math.Min(rank, extra);
        long myBlocks = perRank + (rank < extra ? 1 : 0);
        int start = (int)Math.Min(count, firstBlock * align);
        int end = (int)Math.Min(count, (firstBlock + myBlocks) * align);
        return (start, end);
    }

    /// <summary>The item counts of every rank's <see cref="Contiguous"/> range.</summary>
    public static int[] ContiguousCounts(int count, int ranks, int align = 1)
    {
        var counts = new int[ranks];
        for (int r = 0; r < ranks; r++)
        {
            var (s, e) = Contiguous(count, r, ranks, align);
            counts[r] = e - s;
        }
        return counts;
    }
}
