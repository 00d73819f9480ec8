using CrossModal.Tensors.Nn;

namespace CrossModal.Distributed;

/// <summary>
/// Synchronised BatchNorm for data-parallel training: the <see cref="IBatchReducer"/> that sums a BatchNorm layer's
/// partial statistics over the ranks (one all-reduce of doubles), so that each rank's part of the global batch is
/// normalised with the global batch's mean and variance, as one process normalises the whole batch.
/// </summary>
public sealed class BatchStatisticsOverRanks : IBatchReducer
{
    private readonly ICommunicator _ranks;

    /// <summary>A reducer over <paramref name="ranks"/>.</summary>
    public BatchStatisticsOverRanks(ICommunicator ranks)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        _ranks = ranks;
    }

    /// <inheritdoc/>
    public void Sum(Span<double> values) => _ranks.AllReduce<double>(values, ReduceOperation.Sum);

    /// <summary>
    /// Makes every <see cref="BatchNorm1d"/> of <paramref name="model"/> normalise over the ranks' global batch until
    /// the returned scope is disposed (one training step: the backward pass runs inside it). Nothing changes with no
    /// ranks or one.
    /// </summary>
    public static IDisposable Attach(Module model, ICommunicator? ranks)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = ranks is { Size: > 1 } ? model.Modules().OfType<BatchNorm1d>().ToArray() : [];
        if (layers.Length == 0) return new Scope([]);
        var reducer = new BatchStatisticsOverRanks(ranks!);
        foreach (var bn in layers) bn.CrossBatch = reducer;
        return new Scope(layers);
    }

    private sealed class Scope(BatchNorm1d[] layers) : IDisposable
    {
        public void Dispose()
        {
            foreach (var bn in layers) bn.CrossBatch = null;
        }
    }
}
