using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace CrossModal.Distributed;

/// <summary>
/// The job of one process: every collective is a copy or nothing. Code written against <see cref="ICommunicator"/>
/// runs unchanged without mpirun.
/// </summary>
public sealed class SingleProcessCommunicator : ICommunicator
{
    /// <inheritdoc/>
    public int Rank => 0;

    /// <inheritdoc/>
    public int Size => 1;

    /// <inheritdoc/>
    public CommunicationStats Stats { get; } = new();

    /// <inheritdoc/>
    public void AllReduce<T>(Span<T> data, ReduceOperation operation) where T : unmanaged, INumber<T> =>
        Stats.Add(CollectiveKind.AllReduce, (long)data.Length * Unsafe.SizeOf<T>(), Stopwatch.GetTimestamp());

    /// <inheritdoc/>
    public ICollectiveRequest StartAllReduceSum(float[] data, int offset, int count)
    {
        AllReduce<float>(data.AsSpan(offset, count), ReduceOperation.Sum);
        return CompletedRequest.Instance;
    }

    /// <inheritdoc/>
    public void AllGatherV<T>(ReadOnlySpan<T> local, Span<T> result, ReadOnlySpan<int> counts) where T : unmanaged
    {
        long start = Stopwatch.GetTimestamp();
        CollectiveArguments.CheckCounts(counts, 1, 0, local.Length, result.Length, "all-gather");
        local.CopyTo(result);
        Stats.Add(CollectiveKind.AllGather, (long)result.Length * Unsafe.SizeOf<T>(), start);
    }

    /// <inheritdoc/>
    public void ReduceScatterV<T>(ReadOnlySpan<T> input, Span<T> local, ReadOnlySpan<int> counts) where T : unmanaged, INumber<T>
    {
        long start = Stopwatch.GetTimestamp();
        CollectiveArguments.CheckCounts(counts, 1, 0, local.Length, input.Length, "reduce-scatter");
        input.CopyTo(local);
        Stats.Add(CollectiveKind.ReduceScatter, (long)input.Length * Unsafe.SizeOf<T>(), start);
    }

    /// <inheritdoc/>
    public void GatherV<T>(ReadOnlySpan<T> local, Span<T> result, ReadOnlySpan<int> counts, int root) where T : unmanaged
    {
        long start = Stopwatch.GetTimestamp();
        CollectiveArguments.CheckRoot(root, 1, "gather");
        CollectiveArguments.CheckCounts(counts, 1, 0, local.Length, result.Length, "gather");
        local.CopyTo(result);
        Stats.Add(CollectiveKind.Gather, (long)result.Length * Unsafe.SizeOf<T>(), start);
    }

    /// <inheritdoc/>
    public void Broadcast<T>(Span<T> data, int root) where T : unmanaged
    {
        CollectiveArguments.CheckRoot(root, 1, "broadcast");
        Stats.Add(CollectiveKind.Broadcast, (long)data.Length * Unsafe.SizeOf<T>(), Stopwatch.GetTimestamp());
    }

    /// <inheritdoc/>
    public void Barrier() => Stats.Add(CollectiveKind.Barrier, 0, Stopwatch.GetTimestamp());

    /// <summary>Nothing else to end: returns, and the caller rethrows its exception.</summary>
    public void Abort(string message, int exitCode)
    {
    }
}
