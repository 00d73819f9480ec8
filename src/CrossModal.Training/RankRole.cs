using CrossModal.Distributed;
using CrossModal.Tensors;

namespace CrossModal.Training;

/// <summary>
/// What this process does in a run: every rank trains on its share of each global batch; only the writer (rank 0,
/// or the one process) writes the output folder (checkpoints, model_best, metrics.jsonl, the curve), so the folder
/// needs to exist only on rank 0's machine. The one place that decides who writes, and the ranks' per-step agreements
/// (stop together; gradients summed).
/// </summary>
public sealed class RankRole
{
    private readonly Dictionary<IReadOnlyList<Tensor>, GradientReducer> _reducers = new(ReferenceEqualityComparer.Instance);
    private readonly int[] _stop = new int[1];

    /// <summary>The role of rank <paramref name="ranks"/>.Rank among its ranks.</summary>
    public RankRole(ICommunicator ranks) => Ranks = ranks;

    /// <summary>The ranks of the run.</summary>
    public ICommunicator Ranks { get; }

    /// <summary>Whether this process writes the output folder.</summary>
    public bool Writes => Ranks.Rank == 0;

    /// <summary>The gradient buckets' size (<see cref="GradientReducer.DefaultBucketBytes"/> unless set before the first step).</summary>
    public long BucketBytes { get; set; } = GradientReducer.DefaultBucketBytes;

    /// <summary>Whether several ranks share each global batch.</summary>
    public bool DataParallel => Ranks.Size > 1;

    /// <summary>True on every rank when <paramref name="stop"/> is true on any (an interruption stops all ranks at the same batch).</summary>
    public bool AnyRank(bool stop)
    {
        if (!DataParallel) return stop;
        _stop[0] = stop ? 1 : 0;
        Ranks.AllReduce<int>(_stop, ReduceOperation.Max);
        return _stop[0] != 0;
    }

    /// <summary>
    /// Before a step's forward pass: lets the backward start summing <paramref name="parameters"/>' gradients over the
    /// ranks as soon as they are final (<see cref="GradientReducer.Overlap"/>); null in one process.
    /// </summary>
    public IDisposable? OverlapGradients(IReadOnlyList<Tensor> parameters) => DataParallel ? Reducer(parameters).Overlap(Ranks) : null;

    /// <summary>Sums <paramref name="parameters"/>' gradients over the ranks (one bucketed reducer per parameter list, reused).</summary>
    public void AllReduceGradients(IReadOnlyList<Tensor> parameters)
    {
        if (DataParallel) Reducer(parameters).AllReduce(Ranks);
    }

    private GradientReducer Reducer(IReadOnlyList<Tensor> parameters)
    {
        if (!_reducers.TryGetValue(parameters, out var reducer)) _reducers[parameters] = reducer = new GradientReducer(parameters, BucketBytes);
        return reducer;
    }
}
