using System.Buffers.Binary;
using System.Text;
using CrossModal.Tensors.IO;

namespace CrossModal.Search.Gallery;

/// <summary>
/// The gallery index file (little-endian):
/// <code>
/// header   64 bytes: magic "CMGALLRY", format version (uint32, 1), zeros
/// sections each at a 64-byte aligned offset, per collection (images, captions):
///          {name}.items   UTF-8 lines "id \t path \t text \n"
///          {name}.vectors a vector index section (CMVINDEX, see VectorIndexSection): the pooled unit vectors
///          {name}.sets    float16 row sets for cross-attention re-scoring (see ItemSets), when the model needs them
/// metadata UTF-8 JSON (GalleryMetadata, with the sections' offsets and lengths), 64-byte aligned
/// trailer  64 bytes: magic "CMGALEND", metadata offset (int64), metadata length (int64), file length (int64),
///          CRC-32 of the metadata (uint32), CRC-32 of trailer bytes 0..35 (uint32), zeros
/// </code>
/// The metadata comes last so the writer streams everything once, without seeking; the trailer at the very end
/// makes a truncated file detectable before anything else is read.
/// </summary>
public static class GalleryFile
{
    private const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "CMGALLRY"u8;
    private static ReadOnlySpan<byte> EndMagic => "CMGALEND"u8;

    internal static void Write(Stream output, GalleryMetadata metadata, GalleryCollection images, GalleryCollection? captions, CancellationToken cancellationToken)
    {
        var s = new PositionStream(output);
        Span<byte> header = stackalloc byte[64];
        header.Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Version);
        s.Write(header);
        metadata.Sections.Clear();
        foreach (var c in new[] { images, captions })
        {
            if (c is null) continue;
            cancellationToken.ThrowIfCancellationRequested();
            long start = s.Position;
            var bytes = Encoding.UTF8.GetBytes(string.Concat(c.Items.Select(i => i.ToLine())));
            s.Write(bytes);
            metadata.Sections[c.Name + ".items"] = new GallerySection { Offset = start, Length = bytes.Length };
            s.Align();
            start = s.Position;
            c.Vectors.Save(s);
            metadata.Sections[c.Name + ".vectors"] = new GallerySection { Offset = start, Length = s.Position - start };
            s.Align();
            if (c.Sets is { } sets)
            {
                start = s.Position;
                sets.Write(s);
                metadata.Sections[c.Name + ".sets"] = new GallerySection { Offset = start, Length = s.Position - start };
                s.Align();
            }
        }
        long metaOffset = s.Position;
        var meta = Encoding.UTF8.GetBytes(metadata.ToJson());
        s.Write(meta);
        s.Align();
        Span<byte> trailer = stackalloc byte[64];
        trailer.Clear();
        EndMagic.CopyTo(trailer);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[8..], metaOffset);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[16..], meta.Length);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[24..], s.Position + 64);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[32..], Crc32.Compute(meta));
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[36..], Crc32.Compute(trailer[..36]));
        s.Write(trailer);
    }

    /// <summary>
    /// Reads and checks the header, the trailer and the metadata of the gallery file <paramref name="path"/>
    /// (cheap: the sections are not read). Returns the metadata and the file length.
    /// </summary>
    public static (GalleryMetadata Metadata, long Length) ReadMetadata(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        long length = fs.Length;
        Span<byte> header = stackalloc byte[64];
        int got = fs.ReadAtLeast(header, 64, throwOnEndOfStream: false);
        if (got < 8 || !header[..8].SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a CrossModal gallery index (expected the magic \"CMGALLRY\" at the start, found \"{Printable(header[..Math.Min(got, 8)])}\"; build one with `crossmodal index build`).");
        if (got < 64 || length < 128)
            throw new InvalidDataException($"{path}: truncated gallery index: {length} bytes, fewer than a header and a trailer (128).");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != Version) throw new InvalidDataException($"{path}: gallery index format version {version}; this build reads version {Version}.");
        Span<byte> trailer = stackalloc byte[64];
        fs.Position = length - 64;
        fs.ReadExactly(trailer);
        if (!trailer[..8].SequenceEqual(EndMagic))
            throw new InvalidDataException($"{path}: truncated or damaged gallery index: the last 64 bytes are not its end marker (expected \"CMGALEND\", found \"{Printable(trailer[..8])}\"); the file holds {length} bytes. Rebuild it, or restore it from a copy.");
        if (BinaryPrimitives.ReadUInt32LittleEndian(trailer[36..]) != Crc32.Compute(trailer[..36]))
            throw new InvalidDataException($"{path}: damaged gallery index: the trailer's CRC-32 does not match.");
        long metaOffset = BinaryPrimitives.ReadInt64LittleEndian(trailer[8..]);
        long metaLength = BinaryPrimitives.ReadInt64LittleEndian(trailer[16..]);
        long fileLength = BinaryPrimitives.ReadInt64LittleEndian(trailer[24..]);
        if (fileLength != length)
            throw new InvalidDataException($"{path}: truncated or damaged gallery index: the trailer records {fileLength} bytes, the file holds {length}.");
        if (metaOffset < 64 || metaLength < 2 || metaLength > int.MaxValue || metaOffset + metaLength > length - 64)
            throw new InvalidDataException($"{path}: damaged gallery index: metadata at {metaOffset} of length {metaLength} does not fit in {length} bytes.");
        var meta = new byte[metaLength];
        fs.Position = metaOffset;
        fs.ReadExactly(meta);
        if (Crc32.Compute(meta) != BinaryPrimitives.ReadUInt32LittleEndian(trailer[32..]))
            throw new InvalidDataException($"{path}: damaged gallery index: the metadata's CRC-32 does not match.");
        string json;
        try { json = new UTF8Encoding(false, true).GetString(meta); }
        catch (DecoderFallbackException e) { throw new InvalidDataException($"{path}: the gallery metadata is not valid UTF-8.", e); }
        var metadata = GalleryMetadata.FromJson(json, path);
        foreach (var (name, section) in metadata.Sections)
            if (section.Offset < 64 || section.Offset % 64 != 0 || section.Length < 0 || section.Offset + section.Length > metaOffset)
                throw new InvalidDataException($"{path}: damaged gallery index: section '{name}' at {section.Offset} of length {section.Length} lies outside the data area (64 .. {metaOffset}).");
        return (metadata, length);
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = bytes[i] is >= 32 and < 127 ? (char)bytes[i] : '?';
        return new string(chars);
    }
}
