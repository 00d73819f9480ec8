namespace CrossModal.Tensors.Threading;

/// <summary>
/// The engine's one way to use several cores. Work is split into a fixed number of contiguous chunks that depends
/// only on the problem size and <see cref="Threads"/>, never on scheduling, so results are bit-identical for the
/// same thread count. A parallel region started inside another runs serially on the calling thread: GEMM called
/// from a batch loop that is already split across the cores does not oversubscribe them.
/// </summary>
public static class Parallelism
{
    private static int _threads = Environment.ProcessorCount;

    [ThreadStatic] private static bool _insideRegion;

    /// <summary>Number of worker threads used by kernels (default: the number of logical processors).</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "Threads must be at least 1.");
            _threads = value;
        }
    }

    /// <summary>True when the calling thread is already running inside a parallel region.</summary>
    public static bool InsideRegion => _insideRegion;

    /// <summary>How many chunks a loop of <paramref name="count"/> items with at least <paramref name="minPerChunk"/> items each is split into here.</summary>
    public static int ChunkCount(long count, long minPerChunk = 1)
    {
        if (_insideRegion || _threads == 1 || count <= minPerChunk) return 1;
        long byWork = count / Math.Max(1, minPerChunk);
        return (int)Math.Max(1, Math.Min(_threads, byWork));
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, count) split into <see cref="ChunkCount"/> contiguous chunks.
    /// </summary>
    public static void For(int count, int minPerChunk, Action<int, int> body) =>
        ForChunks(count, minPerChunk, (_, start, end) => body(start, end));

    /// <summary>
    /// Like <see cref="For"/>, also passing the chunk index (0 .. ChunkCount - 1), so a caller can keep one
    /// accumulator per chunk and combine them in chunk order (deterministic reductions).
    /// </summary>
    public static void ForChunks(int count, int minPerChunk, Action<int, int, int> body)
    {
        int chunks = ChunkCount(count, minPerChunk);
        if (chunks <= 1)
        {
            if (count > 0) body(0, 0, count);
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks }, c =>
        {
            int start = (int)((long)count * c / chunks);
            int end = (int)((long)count * (c + 1) / chunks);
            bool outer = _insideRegion;
            _insideRegion = true;
            try { if (end > start) body(c, start, end); }
            finally { _insideRegion = outer; }
        });
    }

    /// <summary>Runs <paramref name="body"/>(i) for every task index in parallel (one task per index, no chunking).</summary>
    public static void ForEachTask(int tasks, Action<int> body)
    {
        if (tasks <= 0) return;
        if (_insideRegion || _threads == 1 || tasks == 1)
        {
            for (int i = 0; i < tasks; i++) body(i);
            return;
        }
        Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(_threads, tasks) }, i =>
        {
            bool outer = _insideRegion;
            _insideRegion = true;
            try { body(i); }
            finally { _insideRegion = outer; }
        });
    }
}
