namespace CrossModal.Distributed.InProcess;

/// <summary>
/// N ranks as threads of one process, for tests of the distributed logic without mpirun. Collectives meet at a
/// barrier: each rank publishes a pointer to its buffer, every rank reads what it needs from the others (reductions
/// in rank order, so results are deterministic and identical on every rank), and a second barrier keeps the
/// buffers alive until everyone has read them. A rank that fails (<see cref="ICommunicator.Abort"/>, or an
/// exception escaping <see cref="Run"/>'s body) ends the world: every pending and later collective of the other
/// ranks throws <see cref="RankFailedException"/> with that rank's message, as MPI_Abort ends an mpirun job.
/// </summary>
public sealed class InProcessWorld
{
    private readonly Barrier _barrier;
    private readonly CancellationTokenSource _failed = new();
    private readonly nint[] _pointers;
    private readonly int[] _lengths;
    private RankFailedException? _failure;

    /// <summary>A world of <paramref name="size"/> ranks.</summary>
    public InProcessWorld(int size)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "A world needs at least one rank.");
        Size = size;
        _barrier = new Barrier(size);
        _pointers = new nint[size];
        _lengths = new int[size];
    }

    /// <summary>Number of ranks.</summary>
    public int Size { get; }

    /// <summary>The failure that ended the world, or null.</summary>
    public RankFailedException? Failure => Volatile.Read(ref _failure);

    /// <summary>Rank <paramref name="rank"/>'s communicator (call its collectives from one thread).</summary>
    public ICommunicator Communicator(int rank)
    {
        if ((uint)rank >= (uint)Size) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"Ranks are 0..{Size - 1}.");
        return new InProcessCommunicator(this, rank);
    }

    /// <summary>
    /// Runs <paramref name="body"/> for every rank on its own thread and waits for all; a rank whose body throws
    /// ends the world with its message. Returns each rank's exception (null where the body returned).
    /// </summary>
    public static Exception?[] Run(int size, Action<ICommunicator> body)
    {
        var world = new InProcessWorld(size);
        var errors = new Exception?[size];
        var threads = new Thread[size];
        for (int r = 0; r < size; r++)
        {
            int rank = r;
            threads[r] = new Thread(() =>
            {
                var comm = world.Communicator(rank);
                try { body(comm); }
                catch (Exception e)
                {
                    errors[rank] = e;
                    if (e is not RankFailedException) comm.Abort(e.Message, 1);
                }
            }, 16 << 20) { Name = $"rank {rank}", IsBackground = true };
            threads[r].Start();
        }
        foreach (var t in threads) t.Join();
        return errors;
    }

    /// <summary>Like <see cref="Run"/>, rethrowing the first rank's exception (the failing rank's own one when a rank failed).</summary>
    public static void RunAll(int size, Action<ICommunicator> body)
    {
        var errors = Run(size, body);
        var first = errors.FirstOrDefault(e => e is not null and not RankFailedException) ?? errors.FirstOrDefault(e => e is not null);
        if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
    }

    internal void Fail(int rank, string message)
    {
        Interlocked.CompareExchange(ref _failure, new RankFailedException(rank, message), null);
        _failed.Cancel();
    }

    /// <summary>Publishes this rank's buffer and waits until every rank has published.</summary>
    internal void Publish(int rank, nint pointer, int length)
    {
        _pointers[rank] = pointer;
        _lengths[rank] = length;
        Wait();
    }

    internal nint Pointer(int rank) => _pointers[rank];

    internal int Length(int rank) => _lengths[rank];

    /// <summary>Waits for every rank; throws the world's failure if a rank failed meanwhile.</summary>
    internal void Wait()
    {
        if (Failure is { } f) throw f;
        long phase = _barrier.CurrentPhaseNumber;
        try { _barrier.SignalAndWait(_failed.Token); }
        catch (OperationCanceledException)
        {
            // A rank may fail just after this phase completed (it went on and failed before this thread woke up):
            // the collective itself finished.
            if (_barrier.CurrentPhaseNumber > phase) return;
            throw Failure!;
        }
    }
}
