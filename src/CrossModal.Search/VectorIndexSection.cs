using CrossModal.Search.Exact;
using CrossModal.Search.Hnsw;
using CrossModal.Search.IO;
using CrossModal.Search.Quantized;

namespace CrossModal.Search;

/// <summary>
/// Reads the self-delimiting sections that <see cref="IVectorIndex.Save"/> writes: a 64-byte header (magic
/// "CMVINDEX", version, kind, dimension, count, payload length, CRC-32 of the header) and a payload whose
/// arrays start at multiples of 64 bytes from the section start. A larger file (the gallery index) can embed
/// sections and read or map each at its offset. Errors are <see cref="InvalidDataException"/>s that name the
/// source, what was expected and what was found.
/// </summary>
public static unsafe class VectorIndexSection
{
    /// <summary>
    /// Reads one section from <paramref name="stream"/> into memory (the stream is left just after it) and returns
    /// the index it holds; <paramref name="source"/> names the stream in error messages.
    /// </summary>
    public static IVectorIndex Read(Stream stream, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> h = stackalloc byte[SectionHeader.Size];
        int got = stream.ReadAtLeast(h, h.Length, throwOnEndOfStream: false);
        var header = SectionHeader.Parse(h[..got], source);
        if (stream.CanSeek && stream.Length - stream.Position < header.PayloadLength)
            throw new InvalidDataException($"{source}: truncated vector index section: the header announces {header.PayloadLength} payload bytes, {stream.Length - stream.Position} remain.");
        return header.Kind switch
        {
            VectorIndexKind.Exact => ExactIndex.Read(stream, header, source),
            VectorIndexKind.Int8 => Int8Index.Read(stream, header, source),
            _ => HnswIndex.Read(stream, header, source),
        };
    }

    /// <summary>Reads the section at the start of the file <paramref name="path"/> into memory.</summary>
    public static IVectorIndex Read(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Read(fs, path);
    }

    /// <summary>
    /// Memory-maps the section at byte <paramref name="offset"/> of <paramref name="path"/> instead of reading it:
    /// opening costs no copy, pages are read when searched, and the OS may share and drop them. The index is
    /// read-only and keeps the mapping until disposed. For aligned vector loads the offset should be a multiple of 64.
    /// </summary>
    public static IVectorIndex Map(string path, long offset = 0)
    {
        long length = new FileInfo(path).Length;
        if (offset < 0 || offset > length) throw new ArgumentOutOfRangeException(nameof(offset), offset, $"{path} holds {length} bytes.");
        if (length - offset < SectionHeader.Size)
            throw new InvalidDataException($"{path}: truncated vector index section: the header needs {SectionHeader.Size} bytes at offset {offset}, {length - offset} remain.");
        var mapping = FileMapping.Open(path);
        try
        {
            return MapAt(mapping.Pointer + offset, length - offset, path, mapping);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>The index of the section at <paramref name="section"/>; <paramref name="owner"/> (if any) is disposed with it.</summary>
    internal static IVectorIndex MapAt(byte* section, long available, string source, IDisposable? owner = null)
    {
        var header = SectionHeader.Parse(new ReadOnlySpan<byte>(section, (int)Math.Min(available, SectionHeader.Size)), source);
        long payloadAvailable = available - SectionHeader.Size;
        if (payloadAvailable < header.PayloadLength)
            throw new InvalidDataException($"{source}: truncated vector index section: the header announces {header.PayloadLength} payload bytes, {payloadAvailable} remain.");
        byte* payload = section + SectionHeader.Size;
        return header.Kind switch
        {
            VectorIndexKind.Exact => ExactIndex.Map(header, payload, payloadAvailable, source, owner),
            VectorIndexKind.Int8 => Int8Index.Map(header, payload, payloadAvailable, source, owner),
            _ => HnswIndex.Map(header, payload, payloadAvailable, source, owner),
        };
    }
}
