using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;
using CrossModal.Search.IO;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Threading;

namespace CrossModal.Search.Hnsw;

/// <summary>
/// Approximate search with an HNSW graph, built and searched by USearch (unum-cloud/USearch through the
/// Cloud.Unum.USearch package's native library) with the inner-product metric over float32 vectors; keys are our
/// ids. Scores are 1 - USearch's inner-product distance, so they equal the exact inner products up to float32
/// rounding; results are reordered by the index-wide tie rule. Adding and searching use
/// <see cref="Parallelism.Threads"/> threads.
/// </summary>
/// <remarks>
/// No recall guarantee: HNSW is a heuristic whose recall depends on the data, M and ef (measured in the tests and
/// the benchmark). Memory per item: 4 x dimension bytes for the vector plus the graph, about 2M x 4 bytes of
/// bottom-layer links and a small share of upper-layer links (<see cref="MemoryBytes"/> asks USearch).
/// </remarks>
public sealed unsafe class HnswIndex : IVectorIndex
{
    private nint _handle;
    private int _efSearch;
    private int _threads;
    private IDisposable? _owner; // the mapping a viewing index was opened over
    private int _count;

    /// <summary>An empty index of <paramref name="dimension"/>-dimensional vectors.</summary>
    public HnswIndex(int dimension, HnswOptions? options = null)
    {
        options ??= new HnswOptions();
        options.Check();
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The dimension must be at least 1.");
        _handle = Create(dimension, options.M, options.EfConstruction, options.EfSearch);
        Dimension = dimension;
        Options = options;
        _efSearch = options.EfSearch;
    }

    private HnswIndex(nint handle, int dimension, HnswOptions options, int count, bool readOnly)
    {
        _handle = handle;
        Dimension = dimension;
        Options = options;
        _efSearch = options.EfSearch;
        _count = count;
        IsReadOnly = readOnly;
    }

    private static nint Create(int dimension, int m, int efConstruction, int efSearch)
    {
        var init = new USearchNative.InitOptions
        {
            MetricKind = MetricKind.Ip,
            Quantization = ScalarKind.Float32,
            Dimensions = (nuint)dimension,
            Connectivity = (nuint)m,
            ExpansionAdd = (nuint)efConstruction,
            ExpansionSearch = (nuint)efSearch,
        };
        nint handle;
        try { handle = USearchNative.Init(&init, out nint error); USearchNative.Check(error, "init"); }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException($"The USearch native library (libusearch_c, from the Cloud.Unum.USearch package) could not be loaded: {e.Message}", e);
        }
        return handle;
    }

    /// <summary>The parameters the index was built with (<see cref="HnswOptions.EfSearch"/> as at creation).</summary>
    public HnswOptions Options { get; }

    /// <summary>efSearch used by <see cref="Search"/>; can be changed between searches (at least k is explored).</summary>
    public int EfSearch
    {
        get => _efSearch;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "efSearch must be at least 1.");
            USearchNative.ChangeExpansionSearch(Handle, (nuint)value, out nint error);
            USearchNative.Check(error, "change_expansion_search");
            _efSearch = value;
        }
    }

    /// <summary>True for an index viewing a memory-mapped section: USearch's views are immutable.</summary>
    public bool IsReadOnly { get; }

    /// <summary>The USearch version and the SIMD kernel it picked ("2.26.x, avx512..." ), for benchmark lines.</summary>
    public string LibraryDescription
    {
        get
        {
            nint hw = USearchNative.HardwareAcceleration(Handle, out nint error);
            USearchNative.Check(error, "hardware_acceleration");
            return $"USearch {USearchNative.VersionString}, {Marshal.PtrToStringUTF8(hw)}";
        }
    }

    /// <inheritdoc/>
    public VectorIndexKind Kind => VectorIndexKind.Hnsw;

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <inheritdoc/>
    public int Count => _count;

    /// <inheritdoc/>
    public long MemoryBytes
    {
        get
        {
            nuint bytes = USearchNative.MemoryUsage(Handle, out nint error);
            USearchNative.Check(error, "memory_usage");
            return (long)bytes;
        }
    }

    private nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(HnswIndex));

    /// <summary>Lets as many threads into USearch as <see cref="Parallelism.Threads"/> (it keeps one context per thread).</summary>
    private void EnsureThreads()
    {
        int threads = Parallelism.Threads;
        if (threads == _threads) return;
        USearchNative.ChangeThreadsAdd(Handle, (nuint)threads, out nint error);
        USearchNative.Check(error, "change_threads_add");
        USearchNative.ChangeThreadsSearch(Handle, (nuint)threads, out error);
        USearchNative.Check(error, "change_threads_search");
        _threads = threads;
    }

    /// <inheritdoc/>
    public void Add(ReadOnlySpan<float> vectors, CancellationToken cancellationToken = default)
    {
        nint handle = Handle;
        if (IsReadOnly) throw new InvalidOperationException("This HNSW index views a memory-mapped section and cannot grow; read it into memory (VectorIndexSection.Read) to add items.");
        UnitVectors.Check(vectors, Dimension, Count);
        int n = vectors.Length / Dimension;
        if (n == 0) return;
        if ((long)Count + n > int.MaxValue) throw new InvalidOperationException($"An index holds at most {int.MaxValue} items; it has {Count}, {n} more were added.");
        USearchNative.Reserve(handle, (nuint)(Count + n), out nint error);
        USearchNative.Check(error, "reserve");
        _threads = 0; // reserve resets the thread limits
        EnsureThreads();
        int first = Count, d = Dimension;
        fixed (float* p = vectors)
        {
            nint src = (nint)p;
            // Inserts run concurrently (USearch locks the nodes it links); insertion order then varies between
            // runs with more than one thread, and so does the graph - fine for an approximate structure.
            Parallelism.For(n, 64, (start, end) =>
            {
                for (int i = start; i < end; i++)
                {
                    if ((i & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
                    USearchNative.Add(handle, (ulong)(first + i), (float*)src + (long)i * d, ScalarKind.Float32, out nint e);
                    USearchNative.Check(e, "add");
                }
            });
        }
        _count = first + n;
    }

    /// <inheritdoc/>
    public void Search(ReadOnlySpan<float> queries, int k, Span<int> ids, Span<float> scores, CancellationToken cancellationToken = default)
    {
        nint handle = Handle;
        SearchArguments.CheckK(k);
        int nq = SearchArguments.QueryCount(queries.Length, Dimension);
        SearchArguments.CheckOutputs(nq, k, ids.Length, scores.Length);
        SearchArguments.CheckFinite(queries, Dimension);
        if (nq == 0) return;
        EnsureThreads();
        int d = Dimension;
        fixed (float* q = queries)
        fixed (int* idp = ids)
        fixed (float* sp = scores)
        {
            nint qa = (nint)q, ia = (nint)idp, sa = (nint)sp;
            Parallelism.For(nq, 16, (start, end) =>
            {
                ulong[] keys = ArrayPool<ulong>.Shared.Rent(k);
                float[] distances = ArrayPool<float>.Shared.Rent(k);
                try
                {
                    fixed (ulong* kp = keys)
                    fixed (float* dp = distances)
                        for (int j = start; j < end; j++)
                        {
                            if ((j & 63) == 0) cancellationToken.ThrowIfCancellationRequested();
                            int found = (int)USearchNative.Search(handle, (float*)qa + (long)j * d, ScalarKind.Float32, (nuint)k, kp, dp, out nint e);
                            USearchNative.Check(e, "search");
                            Order(kp, dp, found, k, (int*)ia + (long)j * k, (float*)sa + (long)j * k);
                        }
                }
                finally
                {
                    ArrayPool<ulong>.Shared.Return(keys);
                    ArrayPool<float>.Shared.Return(distances);
                }
            });
        }
    }

    /// <summary>Converts USearch's (key, 1 - ip) results to (id, score), best first by the tie rule, padded to k.</summary>
    private static void Order(ulong* keys, float* distances, int found, int k, int* ids, float* scores)
    {
        for (int i = 0; i < found; i++)
        {
            float s = 1f - distances[i];
            int id = (int)keys[i];
            int j = i - 1;
            while (j >= 0 && Selection.TopK.Better(s, id, scores[j], ids[j]))
            {
                scores[j + 1] = scores[j];
                ids[j + 1] = ids[j];
                j--;
            }
            scores[j + 1] = s;
            ids[j + 1] = id;
        }
        for (int i = found; i < k; i++)
        {
            ids[i] = -1;
            scores[i] = float.NegativeInfinity;
        }
    }

    /// <summary>
    /// The parameter block of an HNSW payload: M, efConstruction, efSearch (u32 each), the length of USearch's
    /// serialised index (u64 at byte 16), zero-padded to 64 bytes; then that many bytes as USearch's save wrote
    /// them, padded to 64.
    /// </summary>
    // The payload starts with 64 bytes of parameters: M, efConstruction, efSearch (uint32 each), 4 zero bytes, the
    // USearch byte count (int64) and a CRC-32 (uint32) of parameter bytes 0..23 followed by the USearch bytes, then
    // zeros. The CRC is checked before anything reaches USearch's native loader, which trusts its input: a damaged file
    // is one error, not a crash.
    private const int ParamsBytes = 64;

    /// <inheritdoc/>
    public void Save(Stream stream)
    {
        nint handle = Handle;
        nuint length = USearchNative.SerializedLength(handle, out nint error);
        USearchNative.Check(error, "serialized_length");
        new SectionHeader(Kind, Dimension, Count, ParamsBytes + SectionIO.Padded((long)length)).Write(stream);
        Span<byte> p = stackalloc byte[ParamsBytes];
        p.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(p, (uint)Options.M);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], (uint)Options.EfConstruction);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)EfSearch);
        BinaryPrimitives.WriteInt64LittleEndian(p[16..], (long)length);
        // Serialised through a native buffer: USearch's C API writes to a path or to memory only.
        byte* buffer = (byte*)NativeMemory.Alloc(length);
        try
        {
            USearchNative.SaveBuffer(handle, buffer, length, out error);
            USearchNative.Check(error, "save_buffer");
            BinaryPrimitives.WriteUInt32LittleEndian(p[24..], Checksum(Crc32.Compute(p[..24]), buffer, (long)length));
            stream.Write(p);
            SectionIO.Write(stream, buffer, (long)length);
        }
        finally { NativeMemory.Free(buffer); }
        SectionIO.WritePadding(stream, (long)length);
    }

    private static uint Checksum(uint crc, byte* data, long length)
    {
        for (long at = 0; at < length; at += 1 << 30)
            crc = Crc32.Append(crc, new ReadOnlySpan<byte>(data + at, (int)Math.Min(1 << 30, length - at)));
        return crc;
    }

    private static (HnswOptions Options, long Length, uint Crc, uint ParamsCrc) ReadParams(ReadOnlySpan<byte> p, SectionHeader header, string source)
    {
        uint m = BinaryPrimitives.ReadUInt32LittleEndian(p);
        uint efc = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        uint efs = BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
        long length = BinaryPrimitives.ReadInt64LittleEndian(p[16..]);
        if (m < 2 || m > 1024 || efc < 1 || efc > 1 << 20 || efs < 1 || efs > 1 << 20)
            throw new InvalidDataException($"{source}: HNSW parameters M={m}, efConstruction={efc}, efSearch={efs} are out of range.");
        if (length <= 0 || header.PayloadLength != ParamsBytes + SectionIO.Padded(length))
            throw new InvalidDataException($"{source}: an HNSW section with a {length}-byte USearch index has a payload of {ParamsBytes + SectionIO.Padded(length)} bytes, the header says {header.PayloadLength}.");
        return (new HnswOptions { M = (int)m, EfConstruction = (int)efc, EfSearch = (int)efs }, length, BinaryPrimitives.ReadUInt32LittleEndian(p[24..]), Crc32.Compute(p[..24]));
    }

    /// <summary>Opens USearch's serialised bytes (copied into the index, or viewed in place) and checks them against the header.</summary>
    private static HnswIndex Open(SectionHeader header, HnswOptions options, byte* data, long length, (uint Recorded, uint Params) crc, bool view, string source)
    {
        uint actual = Checksum(crc.Params, data, length);
        if (actual != crc.Recorded)
            throw new InvalidDataException($"{source}: damaged HNSW index: the CRC-32 of its parameters and {length} USearch bytes is {actual:x8}, recorded {crc.Recorded:x8}.");
        nint handle = Create(header.Dimension, options.M, options.EfConstruction, options.EfSearch);
        try
        {
            nint error;
            if (view) USearchNative.ViewBuffer(handle, data, (nuint)length, out error);
            else USearchNative.LoadBuffer(handle, data, (nuint)length, out error);
            if (error != 0) throw new InvalidDataException($"{source}: USearch could not {(view ? "view" : "load")} the HNSW index: {Marshal.PtrToStringUTF8(error)}");
            long size = (long)USearchNative.Size(handle, out error);
            USearchNative.Check(error, "size");
            long dimension = (long)USearchNative.Dimensions(handle, out error);
            USearchNative.Check(error, "dimensions");
            if (size != header.Count || dimension != header.Dimension)
                throw new InvalidDataException($"{source}: the HNSW index holds {size} vectors of dimension {dimension}; the section header says {header.Count} x {header.Dimension}.");
            // Loading restores the saved search expansion; set the recorded one explicitly.
            USearchNative.ChangeExpansionSearch(handle, (nuint)options.EfSearch, out error);
            USearchNative.Check(error, "change_expansion_search");
            return new HnswIndex(handle, header.Dimension, options, header.Count, readOnly: view);
        }
        catch
        {
            USearchNative.Free(handle, out _);
            throw;
        }
    }

    /// <summary>Reads the payload of an HNSW section whose header was just read.</summary>
    internal static HnswIndex Read(Stream stream, SectionHeader header, string source)
    {
        Span<byte> p = stackalloc byte[ParamsBytes];
        fixed (byte* pp = p) SectionIO.ReadExactly(stream, pp, ParamsBytes, source);
        var (options, length, crc, paramsCrc) = ReadParams(p, header, source);
        byte* buffer = (byte*)NativeMemory.Alloc((nuint)length);
        try
        {
            SectionIO.ReadExactly(stream, buffer, length, source);
            SectionIO.SkipPadding(stream, length, source);
            return Open(header, options, buffer, length, (crc, paramsCrc), view: false, source);
        }
        finally { NativeMemory.Free(buffer); }
    }

    /// <summary>A read-only index viewing an HNSW payload in a mapping; <paramref name="owner"/>, if any, is disposed with the index.</summary>
    internal static HnswIndex Map(SectionHeader header, byte* payload, long available, string source, IDisposable? owner)
    {
        if (available < header.PayloadLength)
            throw new InvalidDataException($"{source}: truncated vector index section: {header.PayloadLength} payload bytes expected, {available} remain.");
        var (options, length, crc, paramsCrc) = ReadParams(new ReadOnlySpan<byte>(payload, ParamsBytes), header, source);
        var index = Open(header, options, payload + ParamsBytes, length, (crc, paramsCrc), view: true, source);
        index._owner = owner;
        return index;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_handle == 0) return;
        USearchNative.Free(_handle, out _);
        _handle = 0;
        _owner?.Dispose(); // after the view that reads it
        _owner = null;
    }
}
