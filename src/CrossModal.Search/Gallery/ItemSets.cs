using System.Runtime.InteropServices;
using CrossModal.Search.IO;

namespace CrossModal.Search.Gallery;

/// <summary>
/// The encoded row sets of a cross-attention gallery (an image's region embeddings, a caption's word embeddings),
/// stored as float16: the cross-attention model re-scores a query's candidates with them. Half the bytes of
/// float32 (36 x 1,024 regions: 73.7 KB per image) and, memory-mapped, only the candidates' pages are read.
/// Section layout (each array 64-byte aligned): count and dimension (int64), offsets in rows (int64, count + 1),
/// the rows (float16, row-major).
/// </summary>
internal sealed unsafe class ItemSets
{
    private readonly long* _baseOffsets;
    private readonly Half* _baseRows;
    private readonly int _baseCount;
    private readonly List<long> _offsets = new();
    private readonly List<Half> _rows = new();

    /// <summary>An empty set store of <paramref name="dimension"/>-wide rows.</summary>
    public ItemSets(int dimension)
    {
        Dimension = dimension;
        _offsets.Add(0);
    }

    private ItemSets(int dimension, long* offsets, Half* rows, int count) : this(dimension)
    {
        _baseOffsets = offsets;
        _baseRows = rows;
        _baseCount = count;
        _offsets[0] = count == 0 ? 0 : offsets[count];
    }

    public int Dimension { get; }

    public int Count => _baseCount + _offsets.Count - 1;

    /// <summary>Rows of item <paramref name="i"/>.</summary>
    public int Length(int i) => (int)(End(i) - Start(i));

    /// <summary>Writes item <paramref name="i"/>'s rows as float32 into <paramref name="destination"/> (Length(i) x Dimension).</summary>
    public void CopyTo(int i, Span<float> destination)
    {
        long start = Start(i) * Dimension, n = (End(i) - Start(i)) * Dimension;
        ReadOnlySpan<Half> source = i < _baseCount
            ? new ReadOnlySpan<Half>(_baseRows + start, (int)n)
            : CollectionsMarshal.AsSpan(_rows).Slice((int)(start - BaseRows * Dimension), (int)n);
        System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(source, destination[..source.Length]);
    }

    /// <summary>Appends one item of rows.Length / Dimension rows.</summary>
    public void Add(ReadOnlySpan<float> rows)
    {
        if (rows.Length == 0 || rows.Length % Dimension != 0) throw new ArgumentException($"{rows.Length} floats are not whole rows of {Dimension}.");
        foreach (float v in rows) _rows.Add((Half)v);
        _offsets.Add(_offsets[^1] + rows.Length / Dimension);
    }

    private long BaseRows => _baseCount == 0 ? 0 : _baseOffsets[_baseCount];

    private long Start(int i) => i < _baseCount ? _baseOffsets[i] : _offsets[i - _baseCount];

    private long End(int i) => i < _baseCount ? _baseOffsets[i + 1] : _offsets[i - _baseCount + 1];

    /// <summary>Writes the section (the mapped part is copied from the old file, then the appended rows).</summary>
    public void Write(Stream stream)
    {
        Span<long> head = stackalloc long[8];
        head.Clear();
        head[0] = Count;
        head[1] = Dimension;
        stream.Write(MemoryMarshal.AsBytes(head));
        var offsets = new long[Count + 1];
        for (int i = 0; i <= Count; i++) offsets[i] = i < _baseCount ? _baseOffsets[i] : _offsets[i - _baseCount];
        stream.Write(MemoryMarshal.AsBytes(offsets.AsSpan()));
        SectionIO.WritePadding(stream, 8L * offsets.Length);
        long baseBytes = BaseRows * Dimension * 2;
        SectionIO.Write(stream, (byte*)_baseRows, baseBytes);
        var appended = MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_rows));
        stream.Write(appended);
        SectionIO.WritePadding(stream, baseBytes + appended.Length);
    }

    /// <summary>A view of the section at <paramref name="section"/> (<paramref name="length"/> bytes); errors name <paramref name="source"/>.</summary>
    public static ItemSets Map(byte* section, long length, string source)
    {
        if (length < 64) throw new InvalidDataException($"{source}: the region section holds {length} bytes, fewer than its 64-byte head.");
        long count = ((long*)section)[0], dimension = ((long*)section)[1];
        if (count < 0 || count > int.MaxValue || dimension < 1 || dimension > 1 << 20)
            throw new InvalidDataException($"{source}: the region section's head says {count} items of dimension {dimension}.");
        long offsetBytes = SectionIO.Padded(8 * (count + 1));
        if (64 + offsetBytes > length)
            throw new InvalidDataException($"{source}: the region section needs {64 + offsetBytes} bytes for its offsets, has {length}.");
        var offsets = (long*)(section + 64);
        if (offsets[0] != 0) throw new InvalidDataException($"{source}: the region section's first offset is {offsets[0]}, expected 0.");
        for (long i = 0; i < count; i++)
            if (offsets[i + 1] <= offsets[i])
                throw new InvalidDataException($"{source}: the region section's offsets are not increasing at item {i} ({offsets[i]}, {offsets[i + 1]}).");
        long rowBytes = offsets[count] * dimension * 2;
        if (64 + offsetBytes + rowBytes > length)
            throw new InvalidDataException($"{source}: the region section announces {offsets[count]} rows of {dimension} float16 ({rowBytes} bytes); only {length - 64 - offsetBytes} are there.");
        return new ItemSets((int)dimension, offsets, (Half*)(section + 64 + offsetBytes), (int)count);
    }
}
