using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace CrossModal.Distributed.InProcess;

/// <summary>One rank of an <see cref="InProcessWorld"/>.</summary>
internal sealed unsafe class InProcessCommunicator(InProcessWorld world, int rank) : ICommunicator
{
    public int Rank { get; } = rank;

    public int Size => world.Size;

    public CommunicationStats Stats { get; } = new();

    public void AllReduce<T>(Span<T> data, ReduceOperation operation) where T : unmanaged, INumber<T>
    {
        long start = Stopwatch.GetTimestamp();
        var sum = new T[data.Length];
        fixed (T* p = data)
        {
            world.Publish(Rank, (nint)p, data.Length);
            for (int r = 0; r < Size; r++)
                if (world.Length(r) != data.Length) throw new ArgumentException($"all-reduce: rank {r} passed {world.Length(r)} elements, rank {Rank} {data.Length}.");
            new ReadOnlySpan<T>((T*)world.Pointer(0), data.Length).CopyTo(sum);
            for (int r = 1; r < Size; r++)
            {
                var other = new ReadOnlySpan<T>((T*)world.Pointer(r), data.Length);
                for (int i = 0; i < sum.Length; i++) sum[i] = Combine(sum[i], other[i], operation);
            }
            world.Wait();
        }
        sum.CopyTo(data);
        Stats.Add(CollectiveKind.AllReduce, (long)data.Length * Unsafe.SizeOf<T>(), start);
    }

    public ICollectiveRequest StartAllReduceSum(float[] data, int offset, int count)
    {
        AllReduce<float>(data.AsSpan(offset, count), ReduceOperation.Sum);
        return CompletedRequest.Instance;
    }

    public void AllGatherV<T>(ReadOnlySpan<T> local, Span<T> result, ReadOnlySpan<int> counts) where T : unmanaged
    {
        long start = Stopwatch.GetTimestamp();
        CollectiveArguments.CheckCounts(counts, Size, Rank, local.Length, result.Length, "all-gather");
        fixed (T* p = local)
        {
            world.Publish(Rank, (nint)p, local.Length);
            int offset = 0;
            for (int r = 0; r < Size; r++)
            {
                new ReadOnlySpan<T>((T*)world.Pointer(r), counts[r]).CopyTo(result.Slice(offset, counts[r]));
                offset += counts[r];
            }
            world.Wait();
        }
        Stats.Add(CollectiveKind.AllGather, (long)result.Length * Unsafe.SizeOf<T>(), start);
    }

    public void ReduceScatterV<T>(ReadOnlySpan<T> input, Span<T> local, ReadOnlySpan<int> counts) where T : unmanaged, INumber<T>
    {
        long start = Stopwatch.GetTimestamp();
        CollectiveArguments.CheckCounts(counts, Size, Rank, local.Length, input.Length, "reduce-scatter");
        int offset = 0;
        for (int r = 0; r < Rank; r++) offset += counts[r];
        var sum = new T[local.Length];
        fixed (T* p = input)
        {
            world.Publish(Rank, (nint)p, input.Length);
            for (int r = 0; r < Size; r++)
            {
                var block = new ReadOnlySpan<T>((T*)world.Pointer(r) + offset, local.Length);
                if (r == 0) block.CopyTo(sum);
                else for (int i = 0; i < sum.Length; i++) sum[i] += block[i];
            }
            world.Wait();
        }
        sum.CopyTo(local);
        Stats.Add(CollectiveKind.ReduceScatter, (long)input.Length * Unsafe.SizeOf<T>(), start);
    }

    public void GatherV<T>(ReadOnlySpan<T> local, Span<T> result, ReadOnlySpan<int> counts, int root) where T : unmanaged
    {
        long start = Stopwatch.GetTimestamp();
        CollectiveArguments.CheckRoot(root, Size, "gather");
        int total = CollectiveArguments.CheckCounts(counts, Size, Rank, local.Length, result.Length, "gather", resultRequired: Rank == root);
        fixed (T* p = local)
        {
            world.Publish(Rank, (nint)p, local.Length);
            if (Rank == root)
            {
                int offset = 0;
                for (int r = 0; r < Size; r++)
                {
                    new ReadOnlySpan<T>((T*)world.Pointer(r), counts[r]).CopyTo(result.Slice(offset, counts[r]));
                    offset += counts[r];
                }
            }
            world.Wait();
        }
        Stats.Add(CollectiveKind.Gather, (long)total * Unsafe.SizeOf<T>(), start);
    }

    public void Broadcast<T>(Span<T> data, int root) where T : unmanaged
    {
        long start = Stopwatch.GetTimestamp();
        CollectiveArguments.CheckRoot(root, Size, "broadcast");
        fixed (T* p = data)
        {
            world.Publish(Rank, (nint)p, data.Length);
            if (world.Length(root) != data.Length) throw new ArgumentException($"broadcast: the root has {world.Length(root)} elements, rank {Rank} {data.Length}.");
            if (Rank != root) new ReadOnlySpan<T>((T*)world.Pointer(root), data.Length).CopyTo(data);
            world.Wait();
        }
        Stats.Add(CollectiveKind.Broadcast, (long)data.Length * Unsafe.SizeOf<T>(), start);
    }

    public void Barrier()
    {
        long start = Stopwatch.GetTimestamp();
        world.Wait();
        Stats.Add(CollectiveKind.Barrier, 0, start);
    }

    public void Abort(string message, int exitCode) => world.Fail(Rank, message);

    private static T Combine<T>(T a, T b, ReduceOperation operation) where T : INumber<T> => operation switch
    {
        ReduceOperation.Sum => a + b,
        ReduceOperation.Max => T.Max(a, b),
        ReduceOperation.Min => T.Min(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };
}
