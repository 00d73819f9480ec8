using CrossModal.Tensors;

namespace CrossModal.Data;

/// <summary>
/// A training or evaluation batch as the originals' collate function builds it: rows sorted by caption length,
/// descending (ties keep their order in the request), captions zero-padded (<c>&lt;pad&gt;</c> = 0) to the longest.
/// </summary>
/// <param name="CaptionIndices">Caption index of each row (into the dataset), in batch order.</param>
/// <param name="ImageIndices">Feature row of each row's image (captions of one image share it; not de-duplicated, as in the originals).</param>
/// <param name="Images">[B, R, D] region features or [B, D] global features, row i for caption i; from
/// <see cref="Tensor.Empty"/>, so it is pooled inside the caller's <see cref="TensorScope"/>.</param>
/// <param name="Tokens">[B * MaxLength] ids, row-major, zero-padded.</param>
/// <param name="Lengths">True length of each row in ids, including &lt;start&gt; and &lt;end&gt;.</param>
/// <param name="MaxLength">Lengths[0], the padded length.</param>
public sealed record Batch(int[] CaptionIndices, int[] ImageIndices, Tensor Images, int[] Tokens, int[] Lengths, int MaxLength) : IBatch
{
    /// <summary>Number of rows.</summary>
    public int Size => CaptionIndices.Length;

    /// <summary>
    /// In data-parallel training, which rows of the global batch these are (this rank's share); null when the batch
    /// is the whole batch (one process).
    /// </summary>
    public BatchShard? Shard { get; init; }

    /// <summary>The padded ids of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<int> Row(int row) => Tokens.AsSpan(row * MaxLength, MaxLength);

    internal static Batch Create(PrecompDataset data, ReadOnlySpan<int> captions)
    {
        var (sorted, lengths) = SortByLength(data, captions);
        return Build(data, sorted, lengths);
    }

    /// <summary>
    /// Rank <paramref name="rank"/>'s share of the global batch of <paramref name="captions"/> (see
    /// <see cref="BatchShard"/>): the global batch is sorted as <see cref="Create"/> sorts it, then the rank's rows are
    /// taken; only their image features are read.
    /// </summary>
    internal static Batch CreateShard(PrecompDataset data, ReadOnlySpan<int> captions, int rank, int ranks)
    {
        var (sorted, lengths) = SortByLength(data, captions);
        var rows = BatchShard.RowsOf(rank, ranks, sorted.Length);
        if (rows.Length == 0)
            throw new InvalidOperationException($"A batch of {sorted.Length} captions has no rows for rank {rank} of {ranks}; every batch needs at least one caption per rank.");
        var mine = new int[rows.Length];
        var myLengths = new int[rows.Length];
        for (int k = 0; k < rows.Length; k++)
        {
            mine[k] = sorted[rows[k]];
            myLengths[k] = lengths[rows[k]];
        }
        return Build(data, mine, myLengths) with { Shard = new BatchShard(rank, ranks, lengths) };
    }

    /// <summary>Stable sort by length, descending: Python's list.sort(key=len, reverse=True) keeps ties in order.</summary>
    private static (int[] Captions, int[] Lengths) SortByLength(PrecompDataset data, ReadOnlySpan<int> captions)
    {
        int b = captions.Length;
        if (b == 0) throw new ArgumentException("A batch needs at least one caption.", nameof(captions));
        var order = captions.ToArray();
        var lengths = new int[b];
        for (int i = 0; i < b; i++) lengths[i] = data.CaptionLength(order[i]);
        var positions = new int[b];
        for (int i = 0; i < b; i++) positions[i] = i;
        Array.Sort(positions, (x, y) => lengths[x] != lengths[y] ? lengths[y].CompareTo(lengths[x]) : x.CompareTo(y));
        var sorted = new int[b];
        var sortedLengths = new int[b];
        for (int i = 0; i < b; i++)
        {
            sorted[i] = order[positions[i]];
            sortedLengths[i] = lengths[positions[i]];
        }
        return (sorted, sortedLengths);
    }

    /// <summary>The batch of captions already in order, with their images and padded tokens.</summary>
    private static Batch Build(PrecompDataset data, int[] captionIndices, int[] lengths)
    {
        int b = captionIndices.Length;
        var images = new int[b];
        for (int i = 0; i < b; i++) images[i] = data.ImageOf(captionIndices[i]);
        int maxLength = lengths[0];
        var tokens = new int[b * maxLength];
        for (int i = 0; i < b; i++) data.CaptionTokens(captionIndices[i]).CopyTo(tokens.AsSpan(i * maxLength));
        var imageTensor = data.GatherImages(images);
        return new Batch(captionIndices, images, imageTensor, tokens, lengths, maxLength);
    }
}
