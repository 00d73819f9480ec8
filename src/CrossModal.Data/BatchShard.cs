namespace CrossModal.Data;

/// <summary>
/// One rank's share of a global batch in data-parallel training. The global batch is the one a single process would
/// train on (same captions, sorted by length the same way); its rows are dealt round-robin: rank r of N holds rows
/// r, r + N, r + 2N, ... Dealing instead of cutting into contiguous blocks gives every rank captions of about the
/// same lengths (the rows are sorted by length), so the ranks' text encoders take about as long, and each rank's
/// rows stay sorted by length as the packed GRU needs.
/// </summary>
/// <param name="Rank">This rank.</param>
/// <param name="Ranks">Number of ranks.</param>
/// <param name="GlobalLengths">Caption length of every row of the global batch, in its (sorted) order.</param>
public sealed record BatchShard(int Rank, int Ranks, int[] GlobalLengths)
{
    /// <summary>Rows of the global batch.</summary>
    public int GlobalSize => GlobalLengths.Length;

    /// <summary>The global rows rank <paramref name="rank"/> holds, in its local order.</summary>
    public int[] Rows(int rank) => RowsOf(rank, Ranks, GlobalSize);

    /// <summary>The rule: rows rank, rank + ranks, ... of a <paramref name="globalSize"/>-row batch.</summary>
    public static int[] RowsOf(int rank, int ranks, int globalSize)
    {
        if (ranks < 1 || (uint)rank >= (uint)ranks) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"Rank must be in 0..{ranks - 1}.");
        var rows = new int[Math.Max(0, (globalSize - rank + ranks - 1) / ranks)];
        for (int k = 0; k < rows.Length; k++) rows[k] = rank + k * ranks;
        return rows;
    }
}
