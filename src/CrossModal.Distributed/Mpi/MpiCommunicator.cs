using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace CrossModal.Distributed.Mpi;

/// <summary>
/// MPI_COMM_WORLD of an mpirun job (Open MPI's libmpi.so.40 through P/Invoke). <see cref="Initialize"/> starts MPI
/// with MPI_THREAD_FUNNELED: every collective must come from the thread that initialised it (the engine's worker
/// threads compute, they never communicate); a call from another thread is refused with a clear error instead of
/// corrupting MPI's state. <see cref="Dispose"/> finalises MPI. Element types: float, double, int, long, byte
/// (reductions: float, double, int, long).
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator, IDisposable
{
    private const int MaxChunk = 1 << 30;
    private readonly nint _world, _sum, _max, _min;
    private readonly int _thread;
    private bool _disposed;

    private MpiCommunicator()
    {
        _world = MpiNative.Handle("ompi_mpi_comm_world");
        _sum = MpiNative.Handle("ompi_mpi_op_sum");
        _max = MpiNative.Handle("ompi_mpi_op_max");
        _min = MpiNative.Handle("ompi_mpi_op_min");
        _thread = Environment.CurrentManagedThreadId;
        int rank, size;
        MpiNative.Check(MpiNative.MPI_Comm_rank(_world, &rank), "MPI_Comm_rank");
        MpiNative.Check(MpiNative.MPI_Comm_size(_world, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    /// <summary>
    /// Initialises MPI (once per process) and returns MPI_COMM_WORLD. Throws with one clear message when
    /// libmpi.so.40 is missing or does not provide the thread level.
    /// </summary>
    public static MpiCommunicator Initialize()
    {
        if (!MpiNative.Available(out var error)) throw new InvalidOperationException($"This process was started by mpirun, but {error}.");
        int initialized;
        MpiNative.Check(MpiNative.MPI_Initialized(&initialized), "MPI_Initialized");
        if (initialized != 0) throw new InvalidOperationException("MPI is already initialised in this process; create one MpiCommunicator per process.");
        int provided;
        MpiNative.Check(MpiNative.MPI_Init_thread(null, null, MpiNative.ThreadFunneled, &provided), "MPI_Init_thread");
        if (provided < MpiNative.ThreadFunneled)
            throw new InvalidOperationException($"Open MPI provides thread level {provided}; CrossModal needs MPI_THREAD_FUNNELED ({MpiNative.ThreadFunneled}).");
        return new MpiCommunicator();
    }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <inheritdoc/>
    public CommunicationStats Stats { get; } = new();

    /// <inheritdoc/>
    public void AllReduce<T>(Span<T> data, ReduceOperation operation) where T : unmanaged, INumber<T>
    {
        long start = Enter();
        nint type = DataType<T>(), op = operation switch { ReduceOperation.Sum => _sum, ReduceOperation.Max => _max, _ => _min };
        fixed (T* p = data)
            for (int offset = 0; offset < data.Length; offset += MaxChunk)
            {
                int count = Math.Min(MaxChunk, data.Length - offset);
                MpiNative.Check(MpiNative.MPI_Allreduce((void*)MpiNative.InPlace, p + offset, count, type, op, _world), "MPI_Allreduce");
            }
        Stats.Add(CollectiveKind.AllReduce, (long)data.Length * Unsafe.SizeOf<T>(), start);
    }

    /// <inheritdoc/>
    public void AllGatherV<T>(ReadOnlySpan<T> local, Span<T> result, ReadOnlySpan<int> counts) where T : unmanaged
    {
        long start = Enter();
        CollectiveArguments.CheckCounts(counts, Size, Rank, local.Length, result.Length, "all-gather");
        var displacements = Displacements(counts);
        fixed (T* s = local)
        fixed (T* r = result)
        fixed (int* c = counts)
        fixed (int* d = displacements)
            MpiNative.Check(MpiNative.MPI_Allgatherv(s, local.Length, DataType<T>(), r, c, d, DataType<T>(), _world), "MPI_Allgatherv");
        Stats.Add(CollectiveKind.AllGather, (long)result.Length * Unsafe.SizeOf<T>(), start);
    }

    /// <inheritdoc/>
    public void ReduceScatterV<T>(ReadOnlySpan<T> input, Span<T> local, ReadOnlySpan<int> counts) where T : unmanaged, INumber<T>
    {
        long start = Enter();
        CollectiveArguments.CheckCounts(counts, Size, Rank, local.Length, input.Length, "reduce-scatter");
        fixed (T* s = input)
        fixed (T* r = local)
        fixed (int* c = counts)
            MpiNative.Check(MpiNative.MPI_Reduce_scatter(s, r, c, DataType<T>(), _sum, _world), "MPI_Reduce_scatter");
        Stats.Add(CollectiveKind.ReduceScatter, (long)input.Length * Unsafe.SizeOf<T>(), start);
    }

    /// <inheritdoc/>
    public void GatherV<T>(ReadOnlySpan<T> local, Span<T> result, ReadOnlySpan<int> counts, int root) where T : unmanaged
    {
        long start = Enter();
        CollectiveArguments.CheckRoot(root, Size, "gather");
        int total = CollectiveArguments.CheckCounts(counts, Size, Rank, local.Length, result.Length, "gather", resultRequired: Rank == root);
        var displacements = Displacements(counts);
        fixed (T* s = local)
        fixed (T* r = result)
        fixed (int* c = counts)
        fixed (int* d = displacements)
            MpiNative.Check(MpiNative.MPI_Gatherv(s, local.Length, DataType<T>(), r, c, d, DataType<T>(), root, _world), "MPI_Gatherv");
        Stats.Add(CollectiveKind.Gather, (long)total * Unsafe.SizeOf<T>(), start);
    }

    /// <inheritdoc/>
    public void Broadcast<T>(Span<T> data, int root) where T : unmanaged
    {
        long start = Enter();
        CollectiveArguments.CheckRoot(root, Size, "broadcast");
        fixed (T* p = data)
            for (int offset = 0; offset < data.Length; offset += MaxChunk)
                MpiNative.Check(MpiNative.MPI_Bcast(p + offset, Math.Min(MaxChunk, data.Length - offset), DataType<T>(), root, _world), "MPI_Bcast");
        Stats.Add(CollectiveKind.Broadcast, (long)data.Length * Unsafe.SizeOf<T>(), start);
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        long start = Enter();
        MpiNative.Check(MpiNative.MPI_Barrier(_world), "MPI_Barrier");
        Stats.Add(CollectiveKind.Barrier, 0, start);
    }

    /// <summary>MPI_Abort: mpirun ends every rank of the job; does not return.</summary>
    public void Abort(string message, int exitCode)
    {
        Console.Error.Flush();
        Console.Out.Flush();
        MpiNative.MPI_Abort(_world, exitCode);
        Environment.Exit(exitCode);
    }

    /// <summary>MPI_Finalize (every rank must call it; after it no collective may run).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        int finalized;
        MpiNative.MPI_Finalized(&finalized);
        if (finalized == 0) MpiNative.MPI_Finalize();
    }

    /// <inheritdoc/>
    /// <remarks>
    /// MPI_Iallreduce. Open MPI advances it only inside MPI calls (<see cref="MpiRequest.Test"/>, other collectives)
    /// unless it runs a progress thread. The array stays pinned until <see cref="MpiRequest.Wait"/>.
    /// </remarks>
    public ICollectiveRequest StartAllReduceSum(float[] data, int offset, int count)
    {
        long start = Enter();
        if (count > MaxChunk) throw new ArgumentException($"A non-blocking all-reduce takes at most {MaxChunk} elements, got {count}.");
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)offset + count, data.Length, nameof(count));
        var pin = System.Runtime.InteropServices.GCHandle.Alloc(data, System.Runtime.InteropServices.GCHandleType.Pinned);
        nint request;
        float* at = (float*)pin.AddrOfPinnedObject() + offset;
        int code = MpiNative.MPI_Iallreduce((void*)MpiNative.InPlace, at, count, DataType<float>(), _sum, _world, &request);
        if (code != 0)
        {
            pin.Free();
            MpiNative.Check(code, "MPI_Iallreduce");
        }
        Stats.Add(CollectiveKind.AllReduce, (long)count * sizeof(float), start);
        return new MpiRequest(this, request, pin);
    }

    /// <summary>Checks that the caller is the thread that initialised MPI (for <see cref="MpiRequest"/>).</summary>
    internal void EnterRequest() => Enter();

    private long Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Environment.CurrentManagedThreadId != _thread)
            throw new InvalidOperationException("MPI was initialised with MPI_THREAD_FUNNELED: collectives must run on the thread that initialised it.");
        return Stopwatch.GetTimestamp();
    }

    private static int[] Displacements(ReadOnlySpan<int> counts)
    {
        var d = new int[counts.Length];
        for (int r = 1; r < counts.Length; r++) d[r] = d[r - 1] + counts[r - 1];
        return d;
    }

    private static readonly Dictionary<Type, nint> Types = new()
    {
        [typeof(float)] = MpiNative.Handle("ompi_mpi_float"),
        [typeof(double)] = MpiNative.Handle("ompi_mpi_double"),
        [typeof(int)] = MpiNative.Handle("ompi_mpi_int"),
        [typeof(long)] = MpiNative.Handle("ompi_mpi_int64_t"),
        [typeof(byte)] = MpiNative.Handle("ompi_mpi_byte"),
    };

    private static nint DataType<T>() => Types.TryGetValue(typeof(T), out var t) ? t
        : throw new NotSupportedException($"No MPI datatype for {typeof(T).Name} (float, double, int, long and byte are mapped).");
}
