using CrossModal.Tensors;

namespace CrossModal.Data.Category;

/// <summary>
/// Shuffled batches of labelled pairs for training: per epoch a permutation of the chosen rows, cut into consecutive
/// batches of <see cref="BatchSize"/> (the last one smaller), each gathered into a <see cref="LabelledBatch"/> with
/// labels renumbered to the model's classes and, when given, each row's class embedding.
/// </summary>
public sealed class LabelledBatchLoader
{
    private readonly CategoryDataset _data;
    private readonly int[] _rows;
    private readonly int[] _modelClass;
    private readonly float[]? _classEmbeddings;
    private readonly int _embeddingDim;

    /// <summary>
    /// A loader over <paramref name="rows"/> of <paramref name="data"/>. Model class k is dataset class
    /// <paramref name="classes"/>[k]; every row's class must be one of them. <paramref name="classEmbeddings"/>, if
    /// given, holds one row per model class [classes.Count, E].
    /// </summary>
    public LabelledBatchLoader(CategoryDataset data, IReadOnlyList<int> rows, IReadOnlyList<int> classes, int batchSize, Tensor? classEmbeddings = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        if (rows.Count == 0) throw new ArgumentException("No training pairs to batch.", nameof(rows));
        _data = data;
        _rows = rows.ToArray();
        BatchSize = batchSize;
        _modelClass = Enumerable.Repeat(-1, data.ClassCount).ToArray();
        for (int k = 0; k < classes.Count; k++) _modelClass[classes[k]] = k;
        foreach (int r in _rows)
            if (_modelClass[data.Labels[r]] < 0)
                throw new ArgumentException($"{data.Directory}: pair {r} of split '{data.Split}' has class {data.Labels[r]}, which is not a training class ({string.Join(", ", classes)}).");
        if (classEmbeddings is not null)
        {
            if (classEmbeddings.Rank != 2 || classEmbeddings.Dim(0) != classes.Count)
                throw new ArgumentException($"Class embeddings of shape ({string.Join(", ", classEmbeddings.Shape)}) for {classes.Count} training classes; expected one row per class.");
            _classEmbeddings = classEmbeddings.ToArray();
            _embeddingDim = classEmbeddings.Dim(1);
        }
    }

    /// <summary>Pairs per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Batches per epoch (the last one may be smaller).</summary>
    public int BatchesPerEpoch => (_rows.Length + BatchSize - 1) / BatchSize;

    /// <summary>
    /// One epoch: the permutation is drawn from <paramref name="shuffle"/> when the enumeration starts (so the
    /// generator's state before the epoch fixes it); <paramref name="startBatch"/> skips batches already done.
    /// </summary>
    public IEnumerable<LabelledBatch> Epoch(Rng shuffle, int startBatch = 0)
    {
        ArgumentNullException.ThrowIfNull(shuffle);
        if (startBatch < 0) throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, "startBatch must be >= 0.");
        return Iterate(shuffle, startBatch);
    }

    private IEnumerable<LabelledBatch> Iterate(Rng shuffle, int startBatch)
    {
        var order = shuffle.Permutation(_rows.Length);
        for (int b = startBatch; b < BatchesPerEpoch; b++)
        {
            int start = b * BatchSize, count = Math.Min(BatchSize, _rows.Length - start);
            var rows = new int[count];
            for (int i = 0; i < count; i++) rows[i] = _rows[order[start + i]];
            yield return Gather(rows);
        }
    }

    /// <summary>
    /// The batch of the given dataset rows, in that order. Its tensors come from <see cref="Tensor.Empty"/>, so they
    /// are pooled inside the caller's <see cref="TensorScope"/>.
    /// </summary>
    public LabelledBatch Gather(int[] rows)
    {
        int di = _data.ImageFeatures.Dim(1), dt = _data.TextFeatures.Dim(1), b = rows.Length;
        var images = Tensor.Empty(b, di);
        var texts = Tensor.Empty(b, dt);
        var labels = new int[b];
        var emb = _classEmbeddings is null ? null : Tensor.Empty(b, _embeddingDim);
        for (int i = 0; i < b; i++)
        {
            int r = rows[i];
            _data.ImageFeatures.Data.Slice(r * di, di).CopyTo(images.Data.Slice(i * di, di));
            _data.TextFeatures.Data.Slice(r * dt, dt).CopyTo(texts.Data.Slice(i * dt, dt));
            labels[i] = _modelClass[_data.Labels[r]];
            if (emb is not null) _classEmbeddings.AsSpan(labels[i] * _embeddingDim, _embeddingDim).CopyTo(emb.Data.Slice(i * _embeddingDim, _embeddingDim));
        }
        return new LabelledBatch(rows, images, texts, labels, emb);
    }
}
