using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using CrossModal.Search.Exact;
using CrossModal.Search.IO;
using CrossModal.Search.Selection;
using CrossModal.Tensors.Threading;

namespace CrossModal.Search.Quantized;

/// <summary>
/// Search over int8 codes with exact re-scoring: the scan streams 1 byte per dimension instead of 4 (the part
/// that is read for every query is 4x smaller, and the scan is 4x less memory-bound), keeps the
/// k x <see cref="RescoreFactor"/> best candidates of each query by their approximate scores, and re-scores those
/// against the float32 vectors (which may stay on disk, memory-mapped: they are touched only for the candidates).
/// Final scores are exact float32 inner products and follow the index-wide tie rule; only an item that the int8
/// scan ranks below all candidates can be missed.
/// </summary>
/// <remarks>
/// Quantisation is per vector, symmetric: s = max|x_i| / 127, codes round(x_i / s). Per vector rather than per
/// dimension because it needs no training pass, a vector appended later is quantised like the first ones (no
/// range to outgrow, no clipping), and the error is bounded by the vector's own scale: |x_i - s code_i| &lt;= s / 2.
/// Queries are quantised the same way, so the approximate score is s_x s_q (codes_x . codes_q); ranking one
/// query's candidates needs s_x (codes_x . codes_q) only. For a pair of unit vectors the approximation error is at
/// most s_x/2 |q|_1 + s_q/2 |x|_1 + d s_x s_q / 4 (<see cref="ErrorBound"/>).
/// Memory per item: the padded dimension + 8 bytes (scale and code sum) scanned, plus the float32 copy for
/// re-scoring (4 x dimension bytes; not counted in <see cref="MemoryBytes"/> when it is memory-mapped).
/// </remarks>
public sealed unsafe class Int8Index : IVectorIndex
{
    /// <summary>Queries per pass over the codes (bounds the candidate heaps and the query codes).</summary>
    private const int QueryBatch = 256;

    private readonly ExactIndex _exact;
    private readonly Int8Codes _codes;
    private int _rescoreFactor = DefaultRescoreFactor;
    private bool _disposed;

    /// <summary>The default candidates per requested result (see the README for the recall it gives).</summary>
    public const int DefaultRescoreFactor = 4;

    /// <summary>An empty index of <paramref name="dimension"/>-dimensional vectors (float32 copies kept in memory).</summary>
    public Int8Index(int dimension) : this(new ExactIndex(dimension), new Int8Codes(dimension)) { }

    private Int8Index(ExactIndex exact, Int8Codes codes)
    {
        _exact = exact;
        _codes = codes;
    }

    /// <summary>
    /// Quantises every vector of <paramref name="vectors"/> (which may be a memory-mapped, read-only index) and
    /// takes ownership of it: it becomes the float32 copy used for re-scoring, disposed with this index. The
    /// result can grow only when <paramref name="vectors"/> can.
    /// </summary>
    public static Int8Index Build(ExactIndex vectors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var codes = new Int8Codes(vectors.Dimension);
        try
        {
            var rows = vectors.Rows;
            for (int s = 0; s < rows.SegmentCount; s++)
            {
                var (_, n, data) = rows.Segment(s);
                // Pieces of at most 64K rows keep the spans within int and let cancellation through.
                for (int r = 0; r < n; r += 1 << 16)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int take = Math.Min(1 << 16, n - r);
                    codes.Append(new ReadOnlySpan<float>((float*)data + (long)r * vectors.Dimension, take * vectors.Dimension));
                }
            }
            return new Int8Index(vectors, codes);
        }
        catch
        {
            codes.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Candidates kept per requested result before re-scoring (k x factor, at most the gallery); larger is
    /// slower and finds more of the exact top k.
    /// </summary>
    public int RescoreFactor
    {
        get => _rescoreFactor;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "The re-scoring factor must be at least 1.");
            _rescoreFactor = value;
        }
    }

    /// <inheritdoc/>
    public VectorIndexKind Kind => VectorIndexKind.Int8;

    /// <inheritdoc/>
    public int Dimension => _codes.Dimension;

    /// <inheritdoc/>
    public int Count => _codes.Count;

    /// <inheritdoc/>
    public long MemoryBytes => _codes.AllocatedBytes + _exact.MemoryBytes;

    /// <summary>Bytes the scan reads per pass: the codes, scales and code sums.</summary>
    public long ScannedBytes => _codes.CodeBytes + 8L * Count;

    /// <summary>The float32 vectors used for re-scoring.</summary>
    public ExactIndex Vectors => _exact;

    /// <summary>True when the index is memory-mapped (or its float32 vectors are) and cannot grow.</summary>
    public bool IsReadOnly => _exact.IsReadOnly || _codesMapped;

    private bool _codesMapped;
    private IDisposable? _owner;

    /// <inheritdoc/>
    public void Add(ReadOnlySpan<float> vectors, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsReadOnly) throw new InvalidOperationException("This int8 index is memory-mapped (or built over memory-mapped vectors) and cannot grow; read it into memory (VectorIndexSection.Read) to add items.");
        _exact.Add(vectors, cancellationToken); // checks the vectors
        try { _codes.Append(vectors); }
        catch (Exception e)
        {
            // An index whose codes lag its vectors would search wrongly: say so rather than carry on.
            throw new InvalidOperationException("Quantising the added vectors failed after their float32 copies were stored; the index is inconsistent and must be rebuilt.", e);
        }
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
        int candidates = (int)Math.Min(Count, (long)k * RescoreFactor);
        int padded = _codes.Padded;
        sbyte[] codes = ArrayPool<sbyte>.Shared.Rent(Math.Min(nq, QueryBatch) * padded + 64);
        try
        {
            fixed (float* q = queries)
            fixed (sbyte* qc = codes)
            {
                for (int q0 = 0; q0 < nq; q0 += QueryBatch)
                {
                    int nb = Math.Min(QueryBatch, nq - q0);
                    float* batch = q + (long)q0 * Dimension;
                    using var final = new TopK(nb, Math.Max(1, kept));
                    if (kept > 0)
                    {
                        for (int j = 0; j < nb; j++)
                        {
                            var c = new Span<sbyte>(qc + (long)j * padded, padded);
                            Int8Dot.Quantize(new ReadOnlySpan<float>(batch + (long)j * Dimension, Dimension), c[..Dimension]);
                            c[Dimension..].Clear();
                            Int8Dot.PrepareQuery(c);
                        }
                        using var candidatesTop = new TopK(nb, candidates);
                        ScanCodes(qc, nb, candidatesTop, cancellationToken);
                        Rescore(batch, nb, candidatesTop, final);
                    }
                    for (int j = 0; j < nb; j++)
                        final.Drain(j, ids.Slice((q0 + j) * k, k), scores.Slice((q0 + j) * k, k));
                }
            }
        }
        finally { ArrayPool<sbyte>.Shared.Return(codes); }
    }

    /// <summary>The int8 pass: the best candidates of each query by s_x (codes_x . codes_q), one heap set per core.</summary>
    private void ScanCodes(sbyte* queryCodes, int nq, TopK top, CancellationToken cancellationToken)
    {
        int groups = _codes.Groups;
        int minGroups = (int)Math.Max(1, (1L << 20) / ((long)Int8Dot.GroupItems * _codes.Padded * nq));
        int parts = Parallelism.ChunkCount(groups, minGroups);
        var tops = new TopK[parts];
        tops[0] = top;
        for (int p = 1; p < parts; p++) tops[p] = new TopK(nq, top.K);
        try
        {
            nint qp = (nint)queryCodes;
            Parallelism.ForChunks(groups, minGroups, (part, g0, g1) => ScanGroups(g0, g1, (sbyte*)qp, nq, tops[part], cancellationToken));
            for (int p = 1; p < parts; p++) top.Merge(tops[p]);
        }
        finally
        {
            for (int p = 1; p < parts; p++) tops[p]?.Dispose();
        }
    }

    private void ScanGroups(int g0, int g1, sbyte* queryCodes, int nq, TopK top, CancellationToken cancellationToken)
    {
        const int G = Int8Dot.GroupItems;
        int quads = _codes.Padded / 4, padded = _codes.Padded, count = Count;
        int* dots = stackalloc int[4 * G];
        float* approx = stackalloc float[G];
        float* scales = _codes.Scales;
        int* sums = _codes.Sums;
        for (int g = g0; g < g1; g++)
        {
            if ((g & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
            byte* group = _codes.Group(g);
            int first = g * G, lanes = Math.Min(G, count - first);
            int j = 0;
            for (; j + 4 <= nq; j += 4)
            {
                Int8Dot.Group4(group, quads, queryCodes + (long)j * padded, padded, sums + first, dots);
                for (int t = 0; t < 4; t++) Offer(dots + t * G, scales + first, lanes, first, j + t, top, approx);
            }
            for (; j < nq; j++)
            {
                Int8Dot.Group1(group, quads, queryCodes + (long)j * padded, sums + first, dots);
                Offer(dots, scales + first, lanes, first, j, top, approx);
            }
        }
    }

    /// <summary>Offers the group's approximate scores s_x x dot for one query (16 lanes, of which <paramref name="lanes"/> are items).</summary>
    private static void Offer(int* dots, float* scales, int lanes, int first, int query, TopK top, float* approx)
    {
        float threshold = top.Threshold(query);
        if (lanes == Int8Dot.GroupItems && Vector256.IsHardwareAccelerated)
        {
            var a0 = Vector256.ConvertToSingle(Vector256.Load(dots)) * Vector256.Load(scales);
            var a1 = Vector256.ConvertToSingle(Vector256.Load(dots + 8)) * Vector256.Load(scales + 8);
            var t = Vector256.Create(threshold);
            uint mask = Vector256.GreaterThanOrEqual(a0, t).ExtractMostSignificantBits()
                | (Vector256.GreaterThanOrEqual(a1, t).ExtractMostSignificantBits() << 8);
            if (mask == 0) return;
            a0.Store(approx);
            a1.Store(approx + 8);
            while (mask != 0)
            {
                int i = System.Numerics.BitOperations.TrailingZeroCount(mask);
                mask &= mask - 1;
                if (approx[i] >= threshold)
                {
                    top.Offer(query, approx[i], first + i);
                    threshold = top.Threshold(query);
                }
            }
            return;
        }
        for (int i = 0; i < lanes; i++)
        {
            float a = dots[i] * scales[i];
            if (a >= threshold)
            {
                top.Offer(query, a, first + i);
                threshold = top.Threshold(query);
            }
        }
    }

    /// <summary>Exact float32 scores of each query's candidates, into <paramref name="final"/> (queries split across the cores).</summary>
    private void Rescore(float* queries, int nq, TopK candidates, TopK final)
    {
        nint qp = (nint)queries;
        int c = candidates.K;
        Parallelism.For(nq, Math.Max(1, 4096 / Math.Max(1, c)), (start, end) =>
        {
            int[] ids = ArrayPool<int>.Shared.Rent(c);
            float[] approx = ArrayPool<float>.Shared.Rent(c);
            try
            {
                for (int j = start; j < end; j++)
                {
                    candidates.Drain(j, ids.AsSpan(0, c), approx.AsSpan(0, c));
                    float* query = (float*)qp + (long)j * Dimension;
                    for (int i = 0; i < c && ids[i] >= 0; i++) final.Offer(j, _exact.Score(ids[i], query), ids[i]);
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(ids);
                ArrayPool<float>.Shared.Return(approx);
            }
        });
    }

    /// <summary>
    /// An upper bound on |q . x - s_x s_q (codes_x . codes_q)| for the quantised pair: with e_x = x - s_x codes_x
    /// and e_q likewise (|e_i| &lt;= s / 2), q . x - approx = e_x . q + x . e_q - e_x . e_q.
    /// </summary>
    internal static double ErrorBound(ReadOnlySpan<float> q, ReadOnlySpan<float> x)
    {
        float sx = 0, sq = 0;
        double q1 = 0, x1 = 0;
        for (int i = 0; i < q.Length; i++)
        {
            sq = Math.Max(sq, Math.Abs(q[i]));
            sx = Math.Max(sx, Math.Abs(x[i]));
            q1 += Math.Abs(q[i]);
            x1 += Math.Abs(x[i]);
        }
        sq /= 127f;
        sx /= 127f;
        return sx / 2.0 * q1 + sq / 2.0 * x1 + q.Length * (double)sx * sq / 4;
    }

    /// <inheritdoc/>
    public void Save(Stream stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long exactBytes = SectionHeader.Size + SectionIO.Padded(4L * Count * Dimension);
        long payload = ParamsBytes + Int8Codes.SerializedBytes(Dimension, Count) + exactBytes;
        new SectionHeader(Kind, Dimension, Count, payload).Write(stream);
        Span<byte> p = stackalloc byte[ParamsBytes];
        p.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(p, (uint)_codes.Padded);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], Int8Dot.GroupItems);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)RescoreFactor);
        stream.Write(p);
        _codes.WriteTo(stream);
        _exact.Save(stream);
    }

    /// <summary>
    /// The parameter block that opens an int8 payload: padded dimension, group size, re-scoring factor (u32 each),
    /// zero-padded to 64 bytes. Then the codes, scales and sums (<see cref="Int8Codes.WriteTo"/>), then the
    /// float32 vectors as a nested exact section.
    /// </summary>
    private const int ParamsBytes = 64;

    private static int ReadParams(ReadOnlySpan<byte> p, SectionHeader header, string source)
    {
        uint padded = BinaryPrimitives.ReadUInt32LittleEndian(p);
        uint group = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        uint factor = BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
        if (padded != Int8Dot.PaddedDimension(header.Dimension) || group != Int8Dot.GroupItems)
            throw new InvalidDataException($"{source}: int8 section layout (padded dimension {padded}, groups of {group}) does not match dimension {header.Dimension} (expected {Int8Dot.PaddedDimension(header.Dimension)}, groups of {Int8Dot.GroupItems}).");
        if (factor < 1 || factor > 1 << 16) throw new InvalidDataException($"{source}: int8 re-scoring factor {factor} is out of range (1 .. 65536).");
        long expected = ParamsBytes + Int8Codes.SerializedBytes(header.Dimension, header.Count)
            + SectionHeader.Size + SectionIO.Padded(4L * header.Count * header.Dimension);
        if (header.PayloadLength != expected)
            throw new InvalidDataException($"{source}: an int8 section of {header.Count} x {header.Dimension} has a payload of {expected} bytes, the header says {header.PayloadLength}.");
        return (int)factor;
    }

    /// <summary>Reads the payload of an int8 section whose header was just read.</summary>
    internal static Int8Index Read(Stream stream, SectionHeader header, string source)
    {
        Span<byte> p = stackalloc byte[ParamsBytes];
        fixed (byte* pp = p) SectionIO.ReadExactly(stream, pp, ParamsBytes, source);
        int factor = ReadParams(p, header, source);
        var codes = Int8Codes.Read(stream, header.Dimension, header.Count, source);
        try
        {
            var exact = VectorIndexSection.Read(stream, source) as ExactIndex;
            if (exact is null || exact.Count != header.Count || exact.Dimension != header.Dimension)
            {
                (exact as IDisposable)?.Dispose();
                throw new InvalidDataException($"{source}: the int8 section's float32 vectors are not an exact section of {header.Count} x {header.Dimension}.");
            }
            return new Int8Index(exact, codes) { RescoreFactor = factor };
        }
        catch
        {
            codes.Dispose();
            throw;
        }
    }

    /// <summary>A read-only index over an int8 payload in a mapping; <paramref name="owner"/>, if any, is disposed with the index.</summary>
    internal static Int8Index Map(SectionHeader header, byte* payload, long available, string source, IDisposable? owner)
    {
        if (available < ParamsBytes) throw new InvalidDataException($"{source}: truncated vector index section: the int8 parameters need {ParamsBytes} bytes, {available} remain.");
        int factor = ReadParams(new ReadOnlySpan<byte>(payload, ParamsBytes), header, source);
        long codeBytes = Int8Codes.SerializedBytes(header.Dimension, header.Count);
        if (available < header.PayloadLength)
            throw new InvalidDataException($"{source}: truncated vector index section: {header.PayloadLength} payload bytes expected, {available} remain.");
        byte* nested = payload + ParamsBytes + codeBytes;
        var exact = VectorIndexSection.MapAt(nested, available - ParamsBytes - codeBytes, source) as ExactIndex;
        if (exact is null || exact.Count != header.Count || exact.Dimension != header.Dimension)
        {
            (exact as IDisposable)?.Dispose();
            throw new InvalidDataException($"{source}: the int8 section's float32 vectors are not an exact section of {header.Count} x {header.Dimension}.");
        }
        var codes = Int8Codes.Map(payload + ParamsBytes, header.Dimension, header.Count);
        return new Int8Index(exact, codes) { RescoreFactor = factor, _codesMapped = true, _owner = owner };
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _codes.Dispose();
        _exact.Dispose();
        _owner?.Dispose();
    }
}
