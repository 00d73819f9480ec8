using CrossModal.Tensors;

namespace CrossModal.Data;

/// <summary>
/// Batches of captions with their images, with PyTorch DataLoader semantics as the originals use it: per epoch a
/// permutation of all caption indices (or file order without shuffling), cut into consecutive chunks of
/// <see cref="BatchSize"/>, the last one smaller unless dropped; each chunk sorted by caption length (see
/// <see cref="Batch"/>). The same image can occur several times in a batch, as in the originals.
/// </summary>
public sealed class BatchLoader
{
    private readonly PrecompDataset _data;
    private readonly Rng? _rng;

    /// <summary>A loader over <paramref name="data"/>; <paramref name="rng"/> draws the permutations (required when shuffling).</summary>
    public BatchLoader(PrecompDataset data, int batchSize, bool shuffle, Rng? rng, bool dropLast = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        if (shuffle && rng is null) throw new ArgumentNullException(nameof(rng), "Shuffling needs a seeded Rng.");
        _data = data;
        _rng = rng;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
    }

    /// <summary>Captions per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch uses a new permutation.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether an incomplete last batch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => DropLast ? _data.CaptionCount / BatchSize : (_data.CaptionCount + BatchSize - 1) / BatchSize;

    /// <summary>
    /// One epoch of batches. The permutation is drawn from the generator when the enumeration starts, so the
    /// generator's state before an epoch fixes the epoch (save it to resume); <paramref name="startBatch"/> skips
    /// batches already done. Each batch's image tensor is allocated when it is produced, in the scope current then.
    /// In data-parallel training (<paramref name="ranks"/> &gt; 1) every rank draws the same permutation and gets its
    /// share of each global batch (<see cref="Batch.Shard"/>), so the data order does not depend on the number of ranks.
    /// </summary>
    public IEnumerable<Batch> Epoch(int startBatch = 0, int rank = 0, int ranks = 1)
    {
        if (startBatch < 0) throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, "startBatch must be >= 0.");
        if (ranks < 1 || (uint)rank >= (uint)ranks) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"Rank must be in 0..{ranks - 1}.");
        return Iterate(startBatch, rank, ranks);
    }

    private IEnumerable<Batch> Iterate(int startBatch, int rank, int ranks)
    {
        int n = _data.CaptionCount;
        int[] order;
        if (Shuffle) order = _rng!.Permutation(n);
        else
        {
            order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
        }
        int batches = BatchesPerEpoch;
        for (int b = startBatch; b < batches; b++)
        {
            int start = b * BatchSize;
            int count = Math.Min(BatchSize, n - start);
            yield return ranks == 1 ? Batch.Create(_data, order.AsSpan(start, count)) : Batch.CreateShard(_data, order.AsSpan(start, count), rank, ranks);
        }
    }
}
