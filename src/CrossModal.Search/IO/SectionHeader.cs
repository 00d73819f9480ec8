using System.Buffers.Binary;
using CrossModal.Tensors.IO;

namespace CrossModal.Search.IO;

/// <summary>
/// The 64-byte header of a serialised vector index section (little-endian):
/// <code>
///  0  8  magic "CMVINDEX"
///  8  4  format version (1)
/// 12  4  kind (VectorIndexKind: 1 exact, 2 int8, 3 hnsw)
/// 16  4  dimension
/// 20  4  flags (0)
/// 24  8  item count
/// 32  8  payload length: bytes that follow the header (a multiple of 64)
/// 40  4  CRC-32 of bytes 0..39
/// 44 20  zero
/// </code>
/// The payload's arrays each start at a multiple of 64 bytes from the section start (padded with zeros), so a
/// section placed at a 64-byte aligned file offset can be memory-mapped and scanned with aligned vector loads.
/// </summary>
internal readonly record struct SectionHeader(VectorIndexKind Kind, int Dimension, int Count, long PayloadLength)
{
    public const int Size = 64;
    public const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "CMVINDEX"u8;

    public void Write(Stream stream)
    {
        Span<byte> b = stackalloc byte[Size];
        b.Clear();
        Magic.CopyTo(b);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], (uint)Kind);
        BinaryPrimitives.WriteUInt32LittleEndian(b[16..], (uint)Dimension);
        BinaryPrimitives.WriteInt64LittleEndian(b[24..], Count);
        BinaryPrimitives.WriteInt64LittleEndian(b[32..], PayloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(b[40..], Crc32.Compute(b[..40]));
        stream.Write(b);
    }

    /// <summary>Parses and checks a header; errors name <paramref name="source"/> and what was expected.</summary>
    public static SectionHeader Parse(ReadOnlySpan<byte> b, string source)
    {
        if (b.Length < Size)
            throw new InvalidDataException($"{source}: truncated vector index section: the header needs {Size} bytes, {b.Length} remain.");
        if (!b[..8].SequenceEqual(Magic))
            throw new InvalidDataException($"{source}: not a CrossModal vector index section (expected the magic \"CMVINDEX\", found \"{Printable(b[..8])}\").");
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(b[40..]);
        if (crc != Crc32.Compute(b[..40]))
            throw new InvalidDataException($"{source}: corrupt vector index section header (CRC-32 {Crc32.Compute(b[..40]):x8}, recorded {crc:x8}).");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
        if (version != Version)
            throw new InvalidDataException($"{source}: vector index section format version {version}; this build reads version {Version}.");
        uint kind = BinaryPrimitives.ReadUInt32LittleEndian(b[12..]);
        if (!Enum.IsDefined(typeof(VectorIndexKind), (int)kind))
            throw new InvalidDataException($"{source}: unknown vector index kind {kind} (expected 1 exact, 2 int8 or 3 hnsw).");
        uint dimension = BinaryPrimitives.ReadUInt32LittleEndian(b[16..]);
        long count = BinaryPrimitives.ReadInt64LittleEndian(b[24..]);
        long payload = BinaryPrimitives.ReadInt64LittleEndian(b[32..]);
        if (dimension < 1 || dimension > 1 << 20)
            throw new InvalidDataException($"{source}: vector index dimension {dimension} is out of range (1 .. {1 << 20}).");
        if (count < 0 || count > int.MaxValue)
            throw new InvalidDataException($"{source}: vector index item count {count} is out of range (0 .. {int.MaxValue}).");
        if (payload < 0 || payload % 64 != 0)
            throw new InvalidDataException($"{source}: vector index payload length {payload} is not a non-negative multiple of 64.");
        return new SectionHeader((VectorIndexKind)kind, (int)dimension, (int)count, payload);
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = bytes[i] is >= 32 and < 127 ? (char)bytes[i] : '?';
        return new string(chars);
    }
}
