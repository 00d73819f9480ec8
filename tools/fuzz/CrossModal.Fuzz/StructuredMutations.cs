using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;

namespace CrossModal.Fuzz;

/// <summary>
/// Mutations that keep a container valid so that the damage reaches the parser's inner layers: a zip rewritten with
/// one entry mutated, PNG chunks mutated with their CRC recomputed (and the inflated scanlines mutated and
/// re-deflated), JPEG marker segments mutated in place, and the text headers of .npy and safetensors files mutated
/// with their length fields fixed. An input these cannot take apart gets a byte-level mutation instead.
/// </summary>
public static class StructuredMutations
{
    /// <summary>Rewrites a zip with one entry mutated (70%: the pickle, else a storage), or one entry renamed.</summary>
    public static Mutation InsideZip(byte[] original, Rng rng)
    {
        var entries = new List<(string Name, byte[] Data)>();
        try
        {
            using var zip = new ZipArchive(new MemoryStream(original), ZipArchiveMode.Read);
            foreach (var e in zip.Entries)
            {
                using var s = e.Open();
                var ms = new MemoryStream();
                s.CopyTo(ms);
                entries.Add((e.FullName, ms.ToArray()));
            }
        }
        catch (InvalidDataException)
        {
            return ByteMutations.Mutate(original, rng);
        }
        int pkl = entries.FindIndex(e => e.Name.EndsWith("/data.pkl", StringComparison.Ordinal));
        var storages = Enumerable.Range(0, entries.Count).Where(i => entries[i].Name.Contains("/data/", StringComparison.Ordinal)).ToList();
        string how;
        if (rng.NextInt(20) == 0 || pkl < 0)
        {
            int i = rng.NextInt(entries.Count);
            how = $"rename {entries[i].Name}";
            entries[i] = (entries[i].Name + "x", entries[i].Data);
        }
        else
        {
            int i = rng.NextInt(10) < 7 || storages.Count == 0 ? pkl : storages[rng.NextInt(storages.Count)];
            var inner = ByteMutations.Mutate(entries[i].Data, rng);
            entries[i] = (entries[i].Name, inner.Bytes);
            how = $"{entries[i].Name}: {inner.How}";
        }
        var result = new MemoryStream();
        using (var zip = new ZipArchive(result, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                var e = zip.CreateEntry(name, CompressionLevel.NoCompression);
                using var s = e.Open();
                s.Write(data);
            }
        }
        return new Mutation(result.ToArray(), how);
    }

    /// <summary>
    /// PNG: mutates one chunk's body (IHDR's fields half of the time) and recomputes its CRC; or inflates the image
    /// data, mutates the scanlines and deflates them back into one IDAT; or drops or duplicates a chunk.
    /// </summary>
    public static Mutation PngChunks(byte[] original, Rng rng)
    {
        var chunks = ReadPngChunks(original);
        if (chunks is null || chunks.Count == 0) return ByteMutations.Mutate(original, rng);
        string how;
        switch (rng.NextInt(4))
        {
            case 0:
            case 1:
            {
                int i = rng.NextInt(2) == 0 ? 0 : rng.NextInt(chunks.Count); // IHDR (first) half of the time
                var (type, body) = chunks[i];
                Mutation m;
                if (type == "IHDR" && body.Length == 13 && rng.NextInt(2) == 0)
                {
                    // width, height (4 bytes each, big-endian), depth, colour type, compression, filter, interlace
                    var b = (byte[])body.Clone();
                    int field = rng.NextInt(7);
                    if (field < 2) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 * field), Extreme32(rng));
                    else b[6 + field] = (byte)new[] { 0, 1, 2, 3, 4, 6, 7, 8, 16, 255 }[rng.NextInt(10)];
                    m = new Mutation(b, $"field{field}");
                }
                else m = ByteMutations.Mutate(body, rng);
                chunks[i] = (type, m.Bytes);
                how = $"{type}#{i}: {m.How} (CRC fixed)";
                break;
            }
            case 2:
            {
                int first = chunks.FindIndex(c => c.Type == "IDAT");
                if (first < 0) return ByteMutations.Mutate(original, rng);
                byte[] raw;
                try
                {
                    using var z = new ZLibStream(new MemoryStream(chunks.Where(c => c.Type == "IDAT").SelectMany(c => c.Body).ToArray()), CompressionMode.Decompress);
                    var ms = new MemoryStream();
                    z.CopyTo(ms);
                    raw = ms.ToArray();
                }
                catch (InvalidDataException)
                {
                    return ByteMutations.Mutate(original, rng);
                }
                var m = ByteMutations.Mutate(raw, rng, focus: raw.Length);
                var packed = new MemoryStream();
                using (var z = new ZLibStream(packed, CompressionLevel.Fastest, leaveOpen: true)) z.Write(m.Bytes);
                chunks.RemoveAll(c => c.Type == "IDAT");
                chunks.Insert(Math.Min(first, chunks.Count), ("IDAT", packed.ToArray()));
                how = $"scanlines: {m.How} (re-deflated)";
                break;
            }
            default:
            {
                int i = rng.NextInt(chunks.Count);
                if (rng.NextInt(2) == 0)
                {
                    how = $"drop {chunks[i].Type}#{i}";
                    chunks.RemoveAt(i);
                }
                else
                {
                    int to = rng.NextInt(chunks.Count + 1);
                    how = $"dup {chunks[i].Type}#{i}->{to}";
                    chunks.Insert(to, chunks[i]);
                }
                break;
            }
        }
        return new Mutation(WritePng(chunks), how);
    }

    /// <summary>JPEG: mutates one marker segment before the image data in place (its fields, or its length).</summary>
    public static Mutation JpegSegments(byte[] original, Rng rng)
    {
        var segments = new List<(int Marker, int Start, int Length)>(); // Start: first byte after the length field
        int pos = 2;
        while (pos + 4 <= original.Length && original[pos] == 0xFF)
        {
            int marker = original[pos + 1];
            int length = BinaryPrimitives.ReadUInt16BigEndian(original.AsSpan(pos + 2));
            if (length < 2 || pos + 2 + length > original.Length) break;
            segments.Add((marker, pos + 4, length - 2));
            if (marker == 0xDA) break; // the scan header; entropy-coded data follows
            pos += 2 + length;
        }
        if (segments.Count == 0) return ByteMutations.Mutate(original, rng);
        // Favour the segments the decoder interprets: frame, Huffman and quantization tables, scan header, restart.
        var interesting = segments.Where(s => s.Marker is 0xC0 or 0xC1 or 0xC2 or 0xC4 or 0xDB or 0xDA or 0xDD).ToList();
        var (marker2, start, len) = interesting.Count > 0 && rng.NextInt(4) > 0 ? interesting[rng.NextInt(interesting.Count)] : segments[rng.NextInt(segments.Count)];
        var bytes = (byte[])original.Clone();
        string how;
        if (len == 0 || rng.NextInt(5) == 0)
        {
            int value = new[] { 0, 1, 2, 3, 0xFFFF, len + 3, Math.Max(0, len - 1) }[rng.NextInt(7)];
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(start - 2), (ushort)value);
            how = $"FF{marker2:X2} length={value}";
        }
        else if (rng.NextInt(2) == 0 && len >= 2)
        {
            int at = start + rng.NextInt(len - 1);
            ushort value = (ushort)new[] { 0, 1, 2, 7, 8, 255, 256, 0x7FFF, 0xFFFF }[rng.NextInt(9)];
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at), value);
            how = $"FF{marker2:X2} u16@{at - start}={value}";
        }
        else
        {
            int at = start + rng.NextInt(len);
            bytes[at] = rng.NextInt(2) == 0 ? (byte)rng.NextInt(256) : (byte)(bytes[at] ^ (1 << rng.NextInt(8)));
            how = $"FF{marker2:X2} byte@{at - start}";
        }
        return new Mutation(bytes, how);
    }

    /// <summary>.npy: mutates the header's text (shape, dtype, order) and rewrites its length field; the data stays.</summary>
    public static Mutation NpyHeader(byte[] original, Rng rng)
    {
        if (original.Length < 10 || original[0] != 0x93 || original[6] is not (1 or 2 or 3)) return ByteMutations.Mutate(original, rng);
        int prefix = original[6] == 1 ? 10 : 12;
        if (original.Length < prefix) return ByteMutations.Mutate(original, rng);
        long headerLength = prefix == 10 ? BinaryPrimitives.ReadUInt16LittleEndian(original.AsSpan(8)) : BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(8));
        if (prefix + headerLength > original.Length) return ByteMutations.Mutate(original, rng);
        var header = TextMutations.Mutate(original.AsSpan(prefix, (int)headerLength).ToArray(), rng);
        var data = original.AsSpan(prefix + (int)headerLength);
        var result = new byte[prefix + header.Bytes.Length + data.Length];
        original.AsSpan(0, prefix).CopyTo(result);
        if (prefix == 10 && header.Bytes.Length > ushort.MaxValue) return ByteMutations.Mutate(original, rng);
        if (prefix == 10) BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)header.Bytes.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), (uint)header.Bytes.Length);
        header.Bytes.CopyTo(result, prefix);
        data.CopyTo(result.AsSpan(prefix + header.Bytes.Length));
        return new Mutation(result, $"header: {header.How}");
    }

    /// <summary>safetensors: mutates the JSON header's text and rewrites its 8-byte length; the data stays.</summary>
    public static Mutation SafetensorsHeader(byte[] original, Rng rng)
    {
        if (original.Length < 8) return ByteMutations.Mutate(original, rng);
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(original);
        if (length > (ulong)(original.Length - 8)) return ByteMutations.Mutate(original, rng);
        var header = TextMutations.Mutate(original.AsSpan(8, (int)length).ToArray(), rng);
        var data = original.AsSpan(8 + (int)length);
        var result = new byte[8 + header.Bytes.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)header.Bytes.Length);
        header.Bytes.CopyTo(result, 8);
        data.CopyTo(result.AsSpan(8 + header.Bytes.Length));
        return new Mutation(result, $"header: {header.How}");
    }

    private static int Extreme32(Rng rng) => new[] { 0, 1, -1, 2, 255, 256, 65535, 65536, 1 << 20, 1 << 24, int.MaxValue, int.MinValue }[rng.NextInt(12)];

    private static List<(string Type, byte[] Body)>? ReadPngChunks(byte[] data)
    {
        if (data.Length < 8) return null;
        var chunks = new List<(string, byte[])>();
        int pos = 8;
        while (pos + 12 <= data.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(pos));
            if (length < 0 || pos + 12L + length > data.Length) return null;
            chunks.Add((Encoding.ASCII.GetString(data, pos + 4, 4), data.AsSpan(pos + 8, length).ToArray()));
            pos += 12 + length;
        }
        return chunks;
    }

    private static byte[] WritePng(List<(string Type, byte[] Body)> chunks)
    {
        var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Span<byte> word = stackalloc byte[4];
        foreach (var (type, body) in chunks)
        {
            BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
            ms.Write(word);
            var typed = Encoding.ASCII.GetBytes(type).Concat(body).ToArray();
            ms.Write(typed);
            BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typed));
            ms.Write(word);
        }
        return ms.ToArray();
    }
}
