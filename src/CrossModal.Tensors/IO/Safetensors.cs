using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace CrossModal.Tensors.IO;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to
/// {dtype, shape, data_offsets} (plus optional string "__metadata__"), then the raw little-endian data.
/// Reading converts F32/F64/F16/BF16/I64/I32/U8/BOOL to float32 tensors (the original dtype is kept in
/// <see cref="SafetensorsFile.DTypes"/>); writing stores float32, or int64 for the names the caller lists.
/// Writes are atomic; malformed files give one error naming the file and the problem.
/// </summary>
public static class Safetensors
{
    /// <summary>Reads every tensor and the metadata.</summary>
    public static SafetensorsFile Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        var bytes = File.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    /// <summary>Parses safetensors bytes (<paramref name="path"/> names the source in errors).</summary>
    public static SafetensorsFile Parse(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: too short for a safetensors file ({bytes.Length} bytes).");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"{path}: safetensors header length {headerLength} exceeds the file ({bytes.Length} bytes); truncated or not safetensors.");
        var headerBytes = bytes.Slice(8, (int)headerLength);
        var data = bytes[(8 + (int)headerLength)..];
        JsonDocument doc;
        try { doc = JsonDocument.Parse(headerBytes.ToArray()); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: safetensors header is not valid JSON: {e.Message}"); }
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var dtypes = new Dictionary<string, string>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        using (doc)
        try
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: safetensors header is not a JSON object.");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: __metadata__ is not an object.");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}: metadata value '{m.Name}' is not a string.");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                var (dtype, shape, begin, end) = ParseEntry(prop, path);
                int elementSize = ElementSize(dtype, path, prop.Name);
                long count = 1;
                foreach (int d in shape) count *= d;
                if (end < begin || end > data.Length) throw new InvalidDataException($"{path}: tensor '{prop.Name}' data_offsets [{begin}, {end}] lie outside the {data.Length} data bytes.");
                if (end - begin != count * elementSize) throw new InvalidDataException($"{path}: tensor '{prop.Name}' has {end - begin} bytes, its shape {Tensor.FormatShape(shape)} of {dtype} needs {count * elementSize}.");
                var raw = data.Slice((int)begin, (int)(end - begin));
                tensors[prop.Name] = Tensor.FromArray(ToFloat(raw, dtype, (int)count), shape);
                dtypes[prop.Name] = dtype;
                order.Add(prop.Name);
            }
        }
        catch (InvalidOperationException e)
        {
            // JsonDocument checks a string's bytes only when it is read: invalid UTF-8, or an escaped lone surrogate.
            throw new InvalidDataException($"{path}: safetensors header holds a string that is not valid text ({e.Message}).", e);
        }
        return new SafetensorsFile(path, tensors, dtypes, metadata, order);
    }

    /// <summary>
    /// Writes tensors (in the given order) and string metadata atomically. Names in <paramref name="int64Names"/>
    /// are stored as I64 (their values rounded), everything else as F32.
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, ISet<string>? int64Names = null)
    {
        var entries = tensors.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var header = new MemoryStream();
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in entries)
            {
                if (!seen.Add(name)) throw new ArgumentException($"Duplicate tensor name '{name}'.");
                bool asInt = int64Names?.Contains(name) == true;
                long size = (long)t.Length * (asInt ? 8 : 4);
                w.WriteStartObject(name);
                w.WriteString("dtype", asInt ? "I64" : "F32");
                w.WriteStartArray("shape");
                foreach (int d in t.ShapeSpan) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + size);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += size;
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - header.Length % 8) % 8);
        for (int i = 0; i < pad; i++) header.WriteByte((byte)' ');
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
            s.Write(len);
            header.Position = 0;
            header.CopyTo(s);
            foreach (var (name, t) in entries)
            {
                if (int64Names?.Contains(name) == true)
                {
                    var longs = new long[t.Length];
                    var d = t.Data;
                    for (int i = 0; i < longs.Length; i++) longs[i] = (long)MathF.Round(d[i]);
                    s.Write(MemoryMarshal.AsBytes(longs.AsSpan()));
                }
                else s.Write(MemoryMarshal.AsBytes(t.Data));
            }
        });
    }

    private static (string DType, int[] Shape, long Begin, long End) ParseEntry(JsonProperty prop, string path)
    {
        var v = prop.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new InvalidDataException($"{path}: tensor '{prop.Name}' needs 'dtype', 'shape' and two 'data_offsets'.");
        var shape = new List<int>();
        foreach (var d in sh.EnumerateArray())
        {
            if (!d.TryGetInt32(out int x) || x < 0) throw new InvalidDataException($"{path}: tensor '{prop.Name}' has a bad dimension {d}.");
            shape.Add(x);
        }
        if (!off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0)
            throw new InvalidDataException($"{path}: tensor '{prop.Name}' has bad data_offsets.");
        return (dt.GetString()!, shape.ToArray(), begin, end);
    }

    private static int ElementSize(string dtype, string path, string name) => dtype switch
    {
        "F32" or "I32" => 4,
        "F64" or "I64" => 8,
        "F16" or "BF16" or "I16" => 2,
        "U8" or "I8" or "BOOL" => 1,
        _ => throw new InvalidDataException($"{path}: tensor '{name}' has unsupported dtype '{dtype}'."),
    };

    private static float[] ToFloat(ReadOnlySpan<byte> raw, string dtype, int count)
    {
        var f = new float[count];
        switch (dtype)
        {
            case "F32": MemoryMarshal.Cast<byte, float>(raw).CopyTo(f); break;
            case "F64": { var s = MemoryMarshal.Cast<byte, double>(raw); for (int i = 0; i < count; i++) f[i] = (float)s[i]; break; }
            case "F16": { var s = MemoryMarshal.Cast<byte, Half>(raw); for (int i = 0; i < count; i++) f[i] = (float)s[i]; break; }
            case "BF16": { var s = MemoryMarshal.Cast<byte, ushort>(raw); for (int i = 0; i < count; i++) f[i] = BitConverter.Int32BitsToSingle(s[i] << 16); break; }
            case "I64": { var s = MemoryMarshal.Cast<byte, long>(raw); for (int i = 0; i < count; i++) f[i] = s[i]; break; }
            case "I32": { var s = MemoryMarshal.Cast<byte, int>(raw); for (int i = 0; i < count; i++) f[i] = s[i]; break; }
            case "I16": { var s = MemoryMarshal.Cast<byte, short>(raw); for (int i = 0; i < count; i++) f[i] = s[i]; break; }
            case "I8": for (int i = 0; i < count; i++) f[i] = (sbyte)raw[i]; break;
            default: for (int i = 0; i < count; i++) f[i] = raw[i]; break;
        }
        return f;
    }
}
