using System.Runtime.InteropServices;

namespace CrossModal.Tensors.IO;

/// <summary>
/// Reads and writes NumPy .npy files. Reading accepts '&lt;f4', '&lt;f8', '&lt;i4', '&lt;i8' in C order (converted to the
/// requested type); a truncated file, an unsupported dtype, Fortran order or a header that does not parse is one
/// clear error naming the file. Writes are atomic. Large float32 files can be memory-mapped with <see cref="NpyMapped"/>.
/// </summary>
public static class Npy
{
    /// <summary>Reads the header only.</summary>
    public static NpyHeader ReadHeader(string path)
    {
        using var fs = OpenRead(path);
        return NpyHeader.Read(fs, path);
    }

    /// <summary>Reads an array as a float32 tensor (float64 and integer data are converted).</summary>
    public static Tensor ReadFloat32(string path)
    {
        using var fs = OpenRead(path);
        var h = NpyHeader.Read(fs, path);
        var bytes = ReadData(fs, h, path);
        var values = new float[h.Count];
        switch (h.Descr)
        {
            case "<f4": MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values); break;
            case "<f8": { var src = MemoryMarshal.Cast<byte, double>(bytes); for (int i = 0; i < values.Length; i++) values[i] = (float)src[i]; break; }
            case "<i4": { var src = MemoryMarshal.Cast<byte, int>(bytes); for (int i = 0; i < values.Length; i++) values[i] = src[i]; break; }
            case "<i8": { var src = MemoryMarshal.Cast<byte, long>(bytes); for (int i = 0; i < values.Length; i++) values[i] = src[i]; break; }
            default: throw new InvalidDataException($"{path}: dtype '{h.Descr}' cannot be read as float32.");
        }
        return Tensor.FromArray(values, h.Shape);
    }

    /// <summary>Reads an integer (or integral float) array as int64 values with its shape.</summary>
    public static (long[] Values, int[] Shape) ReadInt64(string path)
    {
        using var fs = OpenRead(path);
        var h = NpyHeader.Read(fs, path);
        var bytes = ReadData(fs, h, path);
        var values = new long[h.Count];
        switch (h.Descr)
        {
            case "<i8": MemoryMarshal.Cast<byte, long>(bytes).CopyTo(values); break;
            case "<i4": { var src = MemoryMarshal.Cast<byte, int>(bytes); for (int i = 0; i < values.Length; i++) values[i] = src[i]; break; }
            case "|u1" or "|b1": for (int i = 0; i < values.Length; i++) values[i] = bytes[i]; break;
            default: throw new InvalidDataException($"{path}: dtype '{h.Descr}' is not an integer type (expected '<i4' or '<i8').");
        }
        return (values, h.Shape);
    }

    /// <summary>Reads a float64 array exactly (float32 data is widened).</summary>
    public static (double[] Values, int[] Shape) ReadFloat64(string path)
    {
        using var fs = OpenRead(path);
        var h = NpyHeader.Read(fs, path);
        var bytes = ReadData(fs, h, path);
        var values = new double[h.Count];
        switch (h.Descr)
        {
            case "<f8": MemoryMarshal.Cast<byte, double>(bytes).CopyTo(values); break;
            case "<f4": { var src = MemoryMarshal.Cast<byte, float>(bytes); for (int i = 0; i < values.Length; i++) values[i] = src[i]; break; }
            default: throw new InvalidDataException($"{path}: dtype '{h.Descr}' is not a float type.");
        }
        return (values, h.Shape);
    }

    /// <summary>Writes float32 data with the given shape (atomically).</summary>
    public static void Write(string path, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        CheckCount(data.Length, shape);
        var header = NpyHeader.Build("<f4", shape);
        var bytes = MemoryMarshal.AsBytes(data).ToArray();
        AtomicFile.Write(path, s => { s.Write(header); s.Write(bytes); });
    }

    /// <summary>Writes a tensor (atomically).</summary>
    public static void Write(string path, Tensor tensor) => Write(path, tensor.Data, tensor.ShapeSpan);

    /// <summary>Writes float64 data (atomically).</summary>
    public static void Write(string path, ReadOnlySpan<double> data, ReadOnlySpan<int> shape)
    {
        CheckCount(data.Length, shape);
        var header = NpyHeader.Build("<f8", shape);
        var bytes = MemoryMarshal.AsBytes(data).ToArray();
        AtomicFile.Write(path, s => { s.Write(header); s.Write(bytes); });
    }

    /// <summary>Writes int64 data (atomically).</summary>
    public static void Write(string path, ReadOnlySpan<long> data, ReadOnlySpan<int> shape)
    {
        CheckCount(data.Length, shape);
        var header = NpyHeader.Build("<i8", shape);
        var bytes = MemoryMarshal.AsBytes(data).ToArray();
        AtomicFile.Write(path, s => { s.Write(header); s.Write(bytes); });
    }

    /// <summary>
    /// Writes a float32 array of <paramref name="shape"/> row block by row block, so a matrix larger than memory
    /// can be produced; <paramref name="writeRows"/> receives the stream positioned at the data and must write
    /// exactly the data bytes. Atomic.
    /// </summary>
    public static void WriteStreaming(string path, ReadOnlySpan<int> shape, Action<Stream> writeRows)
    {
        var header = NpyHeader.Build("<f4", shape);
        long expected = 4;
        foreach (int d in shape) expected *= d;
        AtomicFile.Write(path, s =>
        {
            s.Write(header);
            long start = s.Position;
            writeRows(s);
            if (s.Position - start != expected)
                throw new InvalidOperationException($"{path}: wrote {s.Position - start} data bytes, the shape needs {expected}.");
        });
    }

    private static void CheckCount(int length, ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        if (n != length) throw new ArgumentException($"{length} values do not fill shape {Tensor.FormatShape(shape)}.");
    }

    internal static FileStream OpenRead(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    private static byte[] ReadData(FileStream fs, NpyHeader h, string path)
    {
        long need = h.Count * h.ElementSize;
        long have = fs.Length - h.DataOffset;
        if (have < need)
            throw new InvalidDataException($"{path}: truncated .npy data: shape {Tensor.FormatShape(h.Shape)} of '{h.Descr}' needs {need} bytes, the file holds {have}.");
        if (need > Array.MaxLength) throw new InvalidDataException($"{path}: {need} bytes is too large to read into memory; memory-map it with NpyMapped.");
        fs.Position = h.DataOffset;
        var bytes = new byte[need];
        fs.ReadExactly(bytes);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
        return bytes;
    }
}
