using System.Runtime.InteropServices;
using CrossModal.Search.IO;
using CrossModal.Tensors.Threading;

namespace CrossModal.Search.Quantized;

/// <summary>
/// The int8 codes of a gallery in the interleaved group layout of <see cref="Int8Dot"/>, with each item's scale
/// (float32) and code sum (int32, for the unsigned-offset kernel). Groups live in a memory-mapped base block, or
/// in chunks (read from a file, or filled by appends) whose sizes double from 64 KB to 16 MB; a group is never split.
/// Memory per item: padded dimension + 8 bytes (1,032 at dimension 1,024, against 4,096 for float32).
/// </summary>
internal sealed unsafe class Int8Codes : IDisposable
{
    /// <summary>Largest chunk of groups.</summary>
    private const long MaxChunkBytes = 16L << 20;

    /// <summary>First chunk.</summary>
    private const long MinChunkBytes = 64L << 10;

    private readonly List<(int FirstGroup, int Groups, nint Data)> _chunks = new();
    private readonly bool _mapped;
    private byte* _base;
    private readonly int _baseGroups;
    private float* _scales;
    private int* _sums;
    private int _capacity;
    private bool _disposed;

    public Int8Codes(int dimension) : this(dimension, null, 0, null, null, 0, mapped: false) { }

    private Int8Codes(int dimension, byte* baseGroups, int count, float* scales, int* sums, int capacity, bool mapped)
    {
        Dimension = dimension;
        Padded = Int8Dot.PaddedDimension(dimension);
        GroupBytes = Int8Dot.GroupItems * Padded;
        MaxChunkGroups = (int)Math.Max(1, MaxChunkBytes / GroupBytes);
        MinChunkGroups = (int)Math.Min(MaxChunkGroups, Math.Max(1, MinChunkBytes / GroupBytes));
        _base = baseGroups;
        _baseGroups = (count + Int8Dot.GroupItems - 1) / Int8Dot.GroupItems;
        Count = count;
        _scales = scales;
        _sums = sums;
        _capacity = capacity;
        _mapped = mapped;
    }

    public int Dimension { get; }

    /// <summary>The dimension rounded up to whole quads of 4.</summary>
    public int Padded { get; }

    /// <summary>Bytes per group of 16 items.</summary>
    public int GroupBytes { get; }

    /// <summary>Groups of the largest chunk.</summary>
    public int MaxChunkGroups { get; }

    /// <summary>Groups of the first chunk.</summary>
    public int MinChunkGroups { get; }

    public int Count { get; private set; }

    /// <summary>Groups in use (the last may be partly filled; its unused lanes hold zero codes).</summary>
    public int Groups => (Count + Int8Dot.GroupItems - 1) / Int8Dot.GroupItems;

    /// <summary>Bytes of the codes the scan streams (whole groups).</summary>
    public long CodeBytes => (long)Groups * GroupBytes;

    /// <summary>Native bytes allocated (nothing for a mapped store).</summary>
    public long AllocatedBytes
    {
        get
        {
            if (_mapped) return 0;
            long groups = 0;
            foreach (var c in _chunks) groups += c.Groups;
            return groups * GroupBytes + 8L * _capacity;
        }
    }

    public float* Scales => _scales;

    public int* Sums => _sums;

    /// <summary>The group holding items 16g .. 16g + 15.</summary>
    public byte* Group(int g)
    {
        if (g < _baseGroups) return _base + (long)g * GroupBytes;
        int lo = 0, hi = _chunks.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if (_chunks[mid].FirstGroup <= g) lo = mid;
            else hi = mid - 1;
        }
        var c = _chunks[lo];
        return (byte*)c.Data + (long)(g - c.FirstGroup) * GroupBytes;
    }

    /// <summary>Groups in [g, end) that are contiguous in memory from <see cref="Group"/>(g) on.</summary>
    public int ContiguousGroups(int g)
    {
        if (g < _baseGroups) return _baseGroups - g;
        foreach (var c in _chunks)
            if (g >= c.FirstGroup && g < c.FirstGroup + c.Groups) return c.FirstGroup + c.Groups - g;
        return 0;
    }

    /// <summary>Adds a zeroed chunk of <paramref name="groups"/> groups after the last one.</summary>
    private void AddChunk(int groups)
    {
        int first = _chunks.Count == 0 ? _baseGroups : _chunks[^1].FirstGroup + _chunks[^1].Groups;
        nuint bytes = (nuint)((long)groups * GroupBytes);
        var chunk = NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(chunk, bytes); // unused lanes and the dimension padding stay zero
        _chunks.Add((first, groups, (nint)chunk));
    }

    private int CapacityGroups => _chunks.Count == 0 ? _baseGroups : _chunks[^1].FirstGroup + _chunks[^1].Groups;

    /// <summary>Quantises and appends rows [n x dimension] (already checked), splitting the work across the cores.</summary>
    public void Append(ReadOnlySpan<float> rows)
    {
        if (_mapped) throw new InvalidOperationException("A memory-mapped int8 index cannot grow.");
        int n = rows.Length / Dimension;
        if (n == 0) return;
        if ((long)Count + n > int.MaxValue) throw new InvalidOperationException($"An index holds at most {int.MaxValue} items; it has {Count}, {n} more were added.");
        int newCount = Count + n;
        EnsureCapacity(newCount);
        int groups = (newCount + Int8Dot.GroupItems - 1) / Int8Dot.GroupItems;
        while (CapacityGroups < groups)
            AddChunk(_chunks.Count == 0 ? MinChunkGroups : Math.Min(MaxChunkGroups, 2 * _chunks[^1].Groups));
        int first = Count, d = Dimension, padded = Padded;
        fixed (float* p = rows)
        {
            nint src = (nint)p;
            Parallelism.For(n, 4096, (start, end) =>
            {
                Span<sbyte> codes = padded <= 4096 ? stackalloc sbyte[padded] : new sbyte[padded];
                codes.Clear(); // the dimension padding stays zero
                for (int i = start; i < end; i++)
                {
                    int id = first + i;
                    var row = new ReadOnlySpan<float>((float*)src + (long)i * d, d);
                    _scales[id] = Int8Dot.Quantize(row, codes[..d]);
                    int sum = 0;
                    foreach (sbyte c in codes) sum += c;
                    _sums[id] = sum;
                    Int8Dot.Scatter(codes, Group(id / Int8Dot.GroupItems), id % Int8Dot.GroupItems);
                }
            });
        }
        Count = newCount;
    }

    private void EnsureCapacity(int count)
    {
        if (count <= _capacity) return;
        // Whole groups: the kernels read the scales and sums of all 16 lanes of the last group.
        long wanted = Math.Max(count, Math.Max(1024, 2L * _capacity));
        int capacity = (int)Math.Min(int.MaxValue - 15, (wanted + 15) & ~15L);
        _scales = (float*)NativeMemory.Realloc(_scales, (nuint)capacity * sizeof(float));
        _sums = (int*)NativeMemory.Realloc(_sums, (nuint)capacity * sizeof(int));
        _capacity = capacity;
    }

    /// <summary>Writes the groups, then the scales, then the sums, each padded to 64 bytes.</summary>
    public void WriteTo(Stream stream)
    {
        for (int g = 0; g < Groups;)
        {
            int run = Math.Min(ContiguousGroups(g), Groups - g);
            SectionIO.Write(stream, Group(g), (long)run * GroupBytes);
            g += run;
        }
        long scaleBytes = 4L * Count;
        SectionIO.Write(stream, (byte*)_scales, scaleBytes);
        SectionIO.WritePadding(stream, scaleBytes);
        SectionIO.Write(stream, (byte*)_sums, scaleBytes);
        SectionIO.WritePadding(stream, scaleBytes);
    }

    /// <summary>Bytes <see cref="WriteTo"/> writes for <paramref name="count"/> items.</summary>
    public static long SerializedBytes(int dimension, int count) =>
        (long)(count + Int8Dot.GroupItems - 1) / Int8Dot.GroupItems * Int8Dot.GroupItems * Int8Dot.PaddedDimension(dimension)
        + 2 * SectionIO.Padded(4L * count);

    public static Int8Codes Read(Stream stream, int dimension, int count, string source)
    {
        var codes = new Int8Codes(dimension, null, 0, null, null, 0, mapped: false);
        try
        {
            codes.EnsureCapacity(count);
            int groups = (count + Int8Dot.GroupItems - 1) / Int8Dot.GroupItems;
            // Full-size chunks (a read index is usually large), each read in one piece.
            for (int g = 0; g < groups; g += codes.MaxChunkGroups)
            {
                int take = Math.Min(codes.MaxChunkGroups, groups - g);
                codes.AddChunk(codes.MaxChunkGroups);
                SectionIO.ReadExactly(stream, codes.Group(g), (long)take * codes.GroupBytes, source);
            }
            SectionIO.ReadExactly(stream, (byte*)codes._scales, 4L * count, source);
            SectionIO.SkipPadding(stream, 4L * count, source);
            SectionIO.ReadExactly(stream, (byte*)codes._sums, 4L * count, source);
            SectionIO.SkipPadding(stream, 4L * count, source);
            codes.Count = count;
            return codes;
        }
        catch
        {
            codes.Dispose();
            throw;
        }
    }

    /// <summary>A read-only store over the serialised arrays at <paramref name="data"/> in a mapping someone else owns.</summary>
    public static Int8Codes Map(byte* data, int dimension, int count)
    {
        int padded = Int8Dot.PaddedDimension(dimension);
        long groupBytes = (long)(count + Int8Dot.GroupItems - 1) / Int8Dot.GroupItems * Int8Dot.GroupItems * padded;
        float* scales = (float*)(data + groupBytes);
        int* sums = (int*)(data + groupBytes + SectionIO.Padded(4L * count));
        return new Int8Codes(dimension, data, count, scales, sums, count, mapped: true);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var c in _chunks) NativeMemory.AlignedFree((void*)c.Data);
        _chunks.Clear();
        if (!_mapped)
        {
            NativeMemory.Free(_scales);
            NativeMemory.Free(_sums);
        }
        _scales = null;
        _sums = null;
        _base = null;
    }
}
