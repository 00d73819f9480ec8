using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CrossModal.Search.IO;
using CrossModal.Search.Selection;
using CrossModal.Search.Storage;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;

namespace CrossModal.Search.Exact;

/// <summary>
/// Exact top-k search over float32 unit vectors: every query is scored against every item. Two paths, chosen by
/// the number of queries (see <see cref="ScanMaxQueries"/>): a few queries are bandwidth-bound, so the gallery is
/// streamed once through a SIMD dot-product scan (<see cref="DotScan"/>); a batch of many queries is
/// compute-bound, so each block of <see cref="GemmBlockRows"/> items is multiplied with the whole query batch by
/// the engine's GEMM. Either way the gallery is cut into fixed blocks, each core takes a contiguous run of blocks
/// and keeps its own per-query top-k heaps, and the heaps are merged at the end; memory beyond the vectors is
/// one block of scores per core ([queries x block]), never [queries x gallery].
/// </summary>
/// <remarks>
/// Ties: equal scores rank the lower id first. Blocks do not depend on the thread count and each score is one
/// fixed summation, so results are identical for any <see cref="Parallelism.Threads"/>. The two paths sum in
/// different orders, so the same pair may score a few ulps apart in a batch of 2 and a batch of 200.
/// Memory per item: 4 x dimension bytes (4 KB at 1,024).
/// </remarks>
public sealed unsafe class ExactIndex : IVectorIndex
{
    /// <summary>Rows per scan block (scores of one block for up to <see cref="ScanMaxQueries"/> queries live on the stack).</summary>
    private const int ScanBlockRows = 256;

    /// <summary>Queries per GEMM pass: bounds the score block at <see cref="QueryBatch"/> x <see cref="GemmBlockRows"/> floats per core.</summary>
    internal const int QueryBatch = 256;

    private readonly FloatRows _rows;
    private bool _disposed;

    /// <summary>An empty index of <paramref name="dimension"/>-dimensional vectors.</summary>
    public ExactIndex(int dimension) : this(new FloatRows(dimension), readOnly: false) { }

    internal ExactIndex(FloatRows rows, bool readOnly)
    {
        _rows = rows;
        IsReadOnly = readOnly;
    }

    /// <summary>
    /// Batches of at most this many queries take the scan, larger ones the GEMM (measured on the search
    /// benchmark: see the README). Settable for benchmarks and tests.
    /// </summary>
    public int ScanMaxQueries
    {
        get => _scanMaxQueries;
        set
        {
            if (value is < 0 or > MaxScanQueries) throw new ArgumentOutOfRangeException(nameof(value), value, $"The scan takes at most {MaxScanQueries} queries.");
            _scanMaxQueries = value;
        }
    }

    private int _scanMaxQueries = 4;

    /// <summary>Upper limit of <see cref="ScanMaxQueries"/>: the scan keeps a block's scores for all its queries on the stack.</summary>
    public const int MaxScanQueries = 8;

    /// <summary>Gallery rows per GEMM block (fixed, so results do not depend on the thread count).</summary>
    public int GemmBlockRows { get; set; } = 4096;

    /// <summary>The GEMM block actually used: spans of a block must fit an int.</summary>
    private int GemmRows => Math.Max(1, Math.Min(GemmBlockRows, int.MaxValue / Dimension));

    /// <inheritdoc/>
    public VectorIndexKind Kind => VectorIndexKind.Exact;

    /// <inheritdoc/>
    public int Dimension => _rows.Dimension;

    /// <inheritdoc/>
    public int Count => _rows.Count;

    /// <inheritdoc/>
    public long MemoryBytes => _rows.AllocatedBytes;

    /// <summary>True for an index over a memory-mapped file (<see cref="MapNpy"/>, <see cref="VectorIndexSection.Map"/>): it cannot grow.</summary>
    public bool IsReadOnly { get; }

    internal FloatRows Rows => _rows;

    /// <summary>
    /// A read-only index over a float32 .npy file of shape [n, dimension] (such as the encoded gallery a model
    /// wrote), memory-mapped rather than read: opening costs one pass to check that every row is finite and of
    /// unit norm.
    /// </summary>
    public static ExactIndex MapNpy(string path)
    {
        var mapped = NpyMapped.Open(path);
        try
        {
            if (mapped.Shape.Length != 2)
                throw new InvalidDataException($"{path}: expected a 2-D array [items, dimension], found shape [{string.Join(", ", mapped.Shape)}].");
            int rows = mapped.Rows, dimension = mapped.RowLength;
            if (dimension < 1) throw new InvalidDataException($"{path}: the vectors have dimension 0.");
            float* data = rows == 0 ? null : (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(mapped.Row(0)));
            try { UnitVectors.Check(data, rows, dimension, 0); }
            catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
            return new ExactIndex(FloatRows.OverMapping(dimension, data, rows, mapped), readOnly: true);
        }
        catch
        {
            mapped.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Add(ReadOnlySpan<float> vectors, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsReadOnly) throw new InvalidOperationException("This exact index is a memory-mapped file and cannot grow; read it into memory (VectorIndexSection.Read) to add items.");
        UnitVectors.Check(vectors, Dimension, Count);
        cancellationToken.ThrowIfCancellationRequested();
        _rows.Append(vectors);
    }

    /// <inheritdoc/>
    public void Search(ReadOnlySpan<float> queries, int k, Span<int> ids, Span<float> scores, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        SearchArguments.CheckK(k);
        int nq = SearchArguments.QueryCount(queries.Length, Dimension);
        SearchArguments.CheckOutputs(nq, k, ids.Length, scores.Length);
        SearchArguments.CheckFinite(queries, Dimension);
        if (nq == 0) return;
        int kept = Math.Min(k, Count);
        int batch = nq <= ScanMaxQueries ? nq : QueryBatch;
        fixed (float* q = queries)
        {
            for (int q0 = 0; q0 < nq; q0 += batch)
            {
                int nb = Math.Min(batch, nq - q0);
                using var top = new TopK(nb, Math.Max(1, kept));
                if (kept > 0) Scan(q + (long)q0 * Dimension, nb, top, cancellationToken);
                for (int j = 0; j < nb; j++)
                    top.Drain(j, ids.Slice((q0 + j) * k, k), scores.Slice((q0 + j) * k, k));
            }
        }
    }

    /// <summary>
    /// Scores all items against <paramref name="nq"/> queries and leaves the best of each in <paramref name="top"/>
    /// (used by exact search, and by the int8 index's re-scoring when the candidate count reaches the gallery).
    /// </summary>
    internal void Scan(float* queries, int nq, TopK top, CancellationToken cancellationToken)
    {
        bool gemm = nq > ScanMaxQueries;
        int blockRows = gemm ? GemmRows : ScanBlockRows;
        var blocks = Blocks(blockRows);
        // One heap set per part; parts are contiguous runs of whole blocks (so part p sees increasing ids), with
        // at least about a million multiply-adds each so that small galleries stay on one thread.
        int minBlocks = (int)Math.Max(1, (1L << 20) / ((long)blockRows * Dimension * nq));
        int parts = Parallelism.ChunkCount(blocks.Length, minBlocks);
        var tops = new TopK[parts];
        tops[0] = top;
        for (int p = 1; p < parts; p++) tops[p] = new TopK(nq, top.K);
        try
        {
            nint qp = (nint)queries;
            Parallelism.ForChunks(blocks.Length, minBlocks, (part, b0, b1) =>
            {
                if (gemm) ScanGemm(blocks, b0, b1, (float*)qp, nq, tops[part], cancellationToken);
                else ScanDot(blocks, b0, b1, (float*)qp, nq, tops[part], cancellationToken);
            });
            for (int p = 1; p < parts; p++) top.Merge(tops[p]);
        }
        finally
        {
            for (int p = 1; p < parts; p++) tops[p]?.Dispose();
        }
    }

    /// <summary>
    /// The last block list (it only changes when items are added or the block size changes); a reference, so
    /// that concurrent searches never see a torn pair of key and list.
    /// </summary>
    private Tuple<int, int, (int FirstId, int Rows, nint Data)[]>? _blocks;

    /// <summary>The gallery cut into blocks of at most <paramref name="rows"/> rows that never cross a storage segment.</summary>
    private (int FirstId, int Rows, nint Data)[] Blocks(int rows)
    {
        var cached = _blocks;
        if (cached is not null && cached.Item1 == rows && cached.Item2 == Count) return cached.Item3;
        var blocks = CutBlocks(rows);
        _blocks = Tuple.Create(rows, Count, blocks);
        return blocks;
    }

    private (int FirstId, int Rows, nint Data)[] CutBlocks(int rows)
    {
        int count = 0;
        for (int s = 0; s < _rows.SegmentCount; s++) count += (_rows.Segment(s).Rows + rows - 1) / rows;
        var blocks = new (int, int, nint)[count];
        int b = 0;
        for (int s = 0; s < _rows.SegmentCount; s++)
        {
            var (first, n, data) = _rows.Segment(s);
            for (int r = 0; r < n; r += rows)
                blocks[b++] = (first + r, Math.Min(rows, n - r), data + (nint)((long)r * Dimension * sizeof(float)));
        }
        return blocks;
    }

    private void ScanDot((int FirstId, int Rows, nint Data)[] blocks, int b0, int b1, float* queries, int nq, TopK top, CancellationToken cancellationToken)
    {
        int d = Dimension;
        float* s = stackalloc float[ScanBlockRows * MaxScanQueries];
        for (int b = b0; b < b1; b++)
        {
            if ((b & 63) == 0) cancellationToken.ThrowIfCancellationRequested();
            var (first, rows, data) = blocks[b];
            DotScan.Scores((float*)data, rows, d, queries, nq, s);
            for (int j = 0; j < nq; j++)
            {
                float threshold = top.Threshold(j);
                for (int r = 0; r < rows; r++)
                {
                    float v = s[r * nq + j];
                    if (v >= threshold)
                    {
                        top.Offer(j, v, first + r);
                        threshold = top.Threshold(j);
                    }
                }
            }
        }
    }

    private void ScanGemm((int FirstId, int Rows, nint Data)[] blocks, int b0, int b1, float* queries, int nq, TopK top, CancellationToken cancellationToken)
    {
        int d = Dimension, block = GemmRows;
        float* c = (float*)NativeMemory.AlignedAlloc((nuint)((long)nq * block * sizeof(float)), 64);
        try
        {
            for (int b = b0; b < b1; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (first, rows, data) = blocks[b];
                // C [nq x rows] = Q [nq x d] . X^T, X stored [rows x d]: runs serially inside this part's thread.
                Gemm.Multiply(false, true, nq, rows, d, 1f,
                    new ReadOnlySpan<float>(queries, nq * d), d,
                    new ReadOnlySpan<float>((float*)data, rows * d), d,
                    0f, new Span<float>(c, nq * rows), rows);
                for (int j = 0; j < nq; j++) Select(c + (long)j * rows, rows, first, j, top);
            }
        }
        finally { NativeMemory.AlignedFree(c); }
    }

    /// <summary>Offers the scores of one query's row of a block (ids first, first + 1, ...) that reach its threshold.</summary>
    internal static void Select(float* s, int n, int first, int query, TopK top)
    {
        float threshold = top.Threshold(query);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                ulong mask = Vector512.GreaterThanOrEqual(Vector512.Load(s + i), Vector512.Create(threshold)).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    int at = i + System.Numerics.BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    if (s[at] >= threshold)
                    {
                        top.Offer(query, s[at], first + at);
                        threshold = top.Threshold(query);
                    }
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                uint mask = Vector256.GreaterThanOrEqual(Vector256.Load(s + i), Vector256.Create(threshold)).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    int at = i + System.Numerics.BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    if (s[at] >= threshold)
                    {
                        top.Offer(query, s[at], first + at);
                        threshold = top.Threshold(query);
                    }
                }
            }
        }
        for (; i < n; i++)
        {
            if (s[i] >= threshold)
            {
                top.Offer(query, s[i], first + i);
                threshold = top.Threshold(query);
            }
        }
    }

    /// <summary>The inner product of item <paramref name="id"/> with <paramref name="query"/> (for re-scoring).</summary>
    internal float Score(int id, float* query) => DotScan.DotSingle(_rows.Row(id), query, Dimension);

    /// <inheritdoc/>
    public void Save(Stream stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long bytes = 4L * Count * Dimension;
        new SectionHeader(Kind, Dimension, Count, SectionIO.Padded(bytes)).Write(stream);
        _rows.WriteTo(stream);
        SectionIO.WritePadding(stream, bytes);
    }

    /// <summary>Reads the payload of an exact section whose header was just read.</summary>
    internal static ExactIndex Read(Stream stream, SectionHeader header, string source)
    {
        long bytes = 4L * header.Count * header.Dimension;
        if (header.PayloadLength != SectionIO.Padded(bytes))
            throw new InvalidDataException($"{source}: an exact section of {header.Count} x {header.Dimension} floats has a payload of {SectionIO.Padded(bytes)} bytes, the header says {header.PayloadLength}.");
        var rows = FloatRows.Read(stream, header.Dimension, header.Count, source);
        try
        {
            SectionIO.SkipPadding(stream, bytes, source);
            return new ExactIndex(rows, readOnly: false);
        }
        catch
        {
            rows.Dispose();
            throw;
        }
    }

    /// <summary>An index over the payload of an exact section at <paramref name="payload"/> in a mapping; <paramref name="owner"/>, if any, is disposed with the index.</summary>
    internal static ExactIndex Map(SectionHeader header, byte* payload, long available, string source, IDisposable? owner)
    {
        long bytes = 4L * header.Count * header.Dimension;
        if (header.PayloadLength != SectionIO.Padded(bytes))
            throw new InvalidDataException($"{source}: an exact section of {header.Count} x {header.Dimension} floats has a payload of {SectionIO.Padded(bytes)} bytes, the header says {header.PayloadLength}.");
        if (available < bytes)
            throw new InvalidDataException($"{source}: truncated vector index section: {bytes} bytes of vectors expected, {available} remain.");
        var rows = owner is null ? FloatRows.OverMapping(header.Dimension, (float*)payload, header.Count)
            : FloatRows.OverMapping(header.Dimension, (float*)payload, header.Count, owner);
        return new ExactIndex(rows, readOnly: true);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _rows.Dispose();
    }
}
