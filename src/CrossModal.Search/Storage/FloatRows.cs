using System.Runtime.InteropServices;

using CrossModal.Search.IO;

namespace CrossModal.Search.Storage;

/// <summary>
/// Float32 vectors [count x dimension] in native memory: one base block (read from a file, or a memory-mapped
/// region of one) followed by chunks that appends fill. Chunks keep appending cheap (no copy of what is already
/// there, no 2x peak while growing a 4 GB array); their sizes double from 256 KB up to 32 MB, so a small index
/// holds little spare memory and a large one has blocks long enough for the GEMM path.
/// Every row is contiguous; rows are 64-byte aligned when the dimension is a multiple of 16 (the base block of a
/// mapped file is aligned as its writer placed it).
/// </summary>
internal sealed unsafe class FloatRows : IDisposable
{
    /// <summary>Largest chunk: long enough for GEMM blocks of thousands of rows, small enough to waste little.</summary>
    private const long MaxChunkBytes = 32L << 20;

    /// <summary>First chunk.</summary>
    private const long MinChunkBytes = 256L << 10;

    private readonly List<(int First, int Capacity, nint Data)> _chunks = new();
    private readonly IDisposable? _mapping;
    private nint _base;
    private readonly bool _baseOwned;
    private bool _disposed;

    /// <summary>An empty store.</summary>
    public FloatRows(int dimension) : this(dimension, 0, 0, owned: false, mapping: null) { }

    private FloatRows(int dimension, nint basePtr, int baseRows, bool owned, IDisposable? mapping)
    {
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The dimension must be at least 1.");
        Dimension = dimension;
        MaxChunkRows = (int)Math.Max(64, MaxChunkBytes / (4L * dimension));
        MinChunkRows = (int)Math.Min(MaxChunkRows, Math.Max(16, MinChunkBytes / (4L * dimension)));
        _base = basePtr;
        BaseRows = baseRows;
        Count = baseRows;
        _baseOwned = owned;
        _mapping = mapping;
    }

    /// <summary>
    /// A store whose first <paramref name="rows"/> rows are at <paramref name="data"/> inside a memory mapping;
    /// <paramref name="mapping"/> is disposed with the store. Appends go to native chunks after them.
    /// </summary>
    public static FloatRows OverMapping(int dimension, float* data, int rows, IDisposable mapping) =>
        new(dimension, (nint)data, rows, owned: false, mapping);

    /// <summary>A store of <paramref name="rows"/> rows read from <paramref name="stream"/> (little-endian float32, row-major).</summary>
    public static FloatRows Read(Stream stream, int dimension, int rows, string source)
    {
        long bytes = 4L * dimension * rows;
        nint block = rows == 0 ? 0 : (nint)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        var store = new FloatRows(dimension, block, rows, owned: true, mapping: null);
        try
        {
            SectionIO.ReadExactly(stream, (byte*)block, bytes, source);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>A store of the <paramref name="rows"/> rows at <paramref name="data"/> in a mapping someone else owns.</summary>
    public static FloatRows OverMapping(int dimension, float* data, int rows) =>
        new(dimension, (nint)data, rows, owned: false, mapping: NotOwned.Instance);

    /// <summary>Floats per row.</summary>
    public int Dimension { get; }

    /// <summary>Rows stored.</summary>
    public int Count { get; private set; }

    /// <summary>Rows in the base block.</summary>
    public int BaseRows { get; }

    /// <summary>Rows of the largest chunk.</summary>
    public int MaxChunkRows { get; }

    /// <summary>Rows of the first chunk.</summary>
    public int MinChunkRows { get; }

    /// <summary>Stands for a mapping owned elsewhere (an enclosing index disposes it).</summary>
    private sealed class NotOwned : IDisposable
    {
        public static readonly NotOwned Instance = new();

        public void Dispose() { }
    }

    /// <summary>Whether the base block is a memory-mapped file region rather than memory of ours.</summary>
    public bool IsMapped => _mapping is not null;

    /// <summary>Native bytes allocated by this store (the mapped base block is not counted).</summary>
    public long AllocatedBytes
    {
        get
        {
            long rows = _baseOwned ? BaseRows : 0;
            foreach (var c in _chunks) rows += c.Capacity;
            return rows * Dimension * 4;
        }
    }

    /// <summary>Number of contiguous segments (the base block, then each chunk in use).</summary>
    public int SegmentCount => (BaseRows > 0 ? 1 : 0) + _chunks.Count;

    /// <summary>Segment <paramref name="index"/>: its first row's id, its row count, and its data.</summary>
    public (int FirstId, int Rows, nint Data) Segment(int index)
    {
        if (BaseRows > 0)
        {
            if (index == 0) return (0, BaseRows, _base);
            index--;
        }
        var c = _chunks[index];
        return (c.First, Math.Min(c.Capacity, Count - c.First), c.Data);
    }

    /// <summary>Row <paramref name="id"/> (no bounds check: callers pass ids they got from this store).</summary>
    public float* Row(int id)
    {
        if (id < BaseRows) return (float*)_base + (long)id * Dimension;
        // Binary search over the chunks' first ids (a few dozen at most).
        int lo = 0, hi = _chunks.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if (_chunks[mid].First <= id) lo = mid;
            else hi = mid - 1;
        }
        var c = _chunks[lo];
        return (float*)c.Data + (long)(id - c.First) * Dimension;
    }

    /// <summary>Appends rows [n x dimension] (already checked by the caller).</summary>
    public void Append(ReadOnlySpan<float> rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int n = rows.Length / Dimension;
        if ((long)Count + n > int.MaxValue) throw new InvalidOperationException($"An index holds at most {int.MaxValue} items; it has {Count}, {n} more were added.");
        int done = 0;
        while (done < n)
        {
            int free = _chunks.Count == 0 ? 0 : _chunks[^1].First + _chunks[^1].Capacity - Count;
            if (free == 0)
            {
                int capacity = _chunks.Count == 0 ? MinChunkRows : Math.Min(MaxChunkRows, 2 * _chunks[^1].Capacity);
                _chunks.Add((Count, capacity, (nint)NativeMemory.AlignedAlloc((nuint)((long)capacity * Dimension * 4), 64)));
                free = capacity;
            }
            int take = Math.Min(n - done, free);
            rows.Slice(done * Dimension, take * Dimension).CopyTo(new Span<float>(Row(Count), take * Dimension));
            Count += take;
            done += take;
        }
    }

    /// <summary>Writes all rows to <paramref name="stream"/> in id order (little-endian float32).</summary>
    public void WriteTo(Stream stream)
    {
        for (int s = 0; s < SegmentCount; s++)
        {
            var (_, rows, data) = Segment(s);
            SectionIO.Write(stream, (byte*)data, 4L * rows * Dimension);
        }
    }

    /// <summary>Frees the native memory (and unmaps a mapped base block).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var c in _chunks) NativeMemory.AlignedFree((void*)c.Data);
        _chunks.Clear();
        if (_baseOwned && _base != 0) NativeMemory.AlignedFree((void*)_base);
        _base = 0;
        _mapping?.Dispose();
    }
}
