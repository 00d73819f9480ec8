using System.Buffers.Binary;

namespace CrossModal.Vision.Onnx;

/// <summary>
/// An ONNX TensorProto (an initializer or a constant attribute): name, element type, dimensions and the values,
/// kept as stored (raw little-endian bytes or the typed repeated fields) and converted on request. Float16 and
/// bfloat16 values are widened exactly to float32 by <see cref="ToFloat32"/>.
/// </summary>
public sealed class OnnxTensor
{
    private readonly byte[]? _raw;
    private readonly float[]? _floats;
    private readonly int[]? _int32s;
    private readonly long[]? _int64s;
    private readonly double[]? _doubles;
    private readonly ulong[]? _uint64s;

    internal OnnxTensor(string name, OnnxDataType dataType, long[] dims, byte[]? raw, float[]? floats, int[]? int32s,
        long[]? int64s, double[]? doubles, ulong[]? uint64s, string source)
    {
        Name = name;
        DataType = dataType;
        Dims = dims;
        _raw = raw;
        _floats = floats;
        _int32s = int32s;
        _int64s = int64s;
        _doubles = doubles;
        _uint64s = uint64s;
        // Every dimension fits an int and the product is checked as it grows (a corrupt file's dimensions must not
        // wrap around to a small count).
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0) throw new InvalidDataException($"{source}: tensor '{name}' has a negative dimension {d}.");
            if (d > int.MaxValue) throw new InvalidDataException($"{source}: tensor '{name}' has a dimension of {d} (more than 2^31).");
        }
        foreach (long d in dims)
        {
            if (d == 0) { count = 0; break; }
            if (count > int.MaxValue / d)
                throw new InvalidDataException($"{source}: tensor '{name}' with dims [{string.Join(", ", dims)}] has more than 2^31 elements.");
            count *= d;
        }
        ElementCount = (int)count;
        long stored = StoredCount(source);
        if (stored != ElementCount)
            throw new InvalidDataException($"{source}: tensor '{name}' ({dataType}, dims [{string.Join(", ", dims)}]) should hold {ElementCount} values, found {stored}.");
    }

    /// <summary>The tensor's name (empty for unnamed attribute tensors).</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public OnnxDataType DataType { get; }

    /// <summary>The dimensions (empty for a scalar).</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>The number of elements (product of <see cref="Dims"/>).</summary>
    public int ElementCount { get; }

    /// <summary>The dimensions as int (all fit, checked at load).</summary>
    public int[] Shape => Dims.Select(d => (int)d).ToArray();

    /// <summary>The values converted to float32 (exact for float16, bfloat16 and small integers).</summary>
    public float[] ToFloat32()
    {
        var result = new float[ElementCount];
        switch (DataType)
        {
            case OnnxDataType.Float:
                if (_raw is not null) for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(_raw.AsSpan(i * 4));
                else _floats!.CopyTo(result, 0);
                break;
            case OnnxDataType.Float16:
                for (int i = 0; i < result.Length; i++) result[i] = (float)BitConverter.UInt16BitsToHalf(Bits16(i));
                break;
            case OnnxDataType.BFloat16:
                for (int i = 0; i < result.Length; i++) result[i] = BitConverter.Int32BitsToSingle(Bits16(i) << 16);
                break;
            case OnnxDataType.Double:
                for (int i = 0; i < result.Length; i++) result[i] = (float)(_raw is not null ? BinaryPrimitives.ReadDoubleLittleEndian(_raw.AsSpan(i * 8)) : _doubles![i]);
                break;
            default:
                var ints = ToInt64();
                for (int i = 0; i < result.Length; i++) result[i] = ints[i];
                break;
        }
        return result;
    }

    /// <summary>The values as int64 (integer and boolean types only).</summary>
    public long[] ToInt64()
    {
        var result = new long[ElementCount];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = DataType switch
            {
                OnnxDataType.Int64 => _raw is not null ? BinaryPrimitives.ReadInt64LittleEndian(_raw.AsSpan(i * 8)) : _int64s![i],
                OnnxDataType.Int32 => _raw is not null ? BinaryPrimitives.ReadInt32LittleEndian(_raw.AsSpan(i * 4)) : _int32s![i],
                OnnxDataType.Int16 => _raw is not null ? BinaryPrimitives.ReadInt16LittleEndian(_raw.AsSpan(i * 2)) : (short)_int32s![i],
                OnnxDataType.UInt16 => _raw is not null ? BinaryPrimitives.ReadUInt16LittleEndian(_raw.AsSpan(i * 2)) : (ushort)_int32s![i],
                OnnxDataType.Int8 => _raw is not null ? (sbyte)_raw[i] : (sbyte)_int32s![i],
                OnnxDataType.UInt8 or OnnxDataType.Bool => _raw is not null ? _raw[i] : (byte)_int32s![i],
                OnnxDataType.UInt32 => _raw is not null ? BinaryPrimitives.ReadUInt32LittleEndian(_raw.AsSpan(i * 4)) : (uint)_uint64s![i],
                OnnxDataType.UInt64 => (long)(_raw is not null ? BinaryPrimitives.ReadUInt64LittleEndian(_raw.AsSpan(i * 8)) : _uint64s![i]),
                _ => throw new NotSupportedException($"Tensor '{Name}' of type {DataType} cannot be read as integers."),
            };
        }
        return result;
    }

    private ushort Bits16(int i) => _raw is not null ? BinaryPrimitives.ReadUInt16LittleEndian(_raw.AsSpan(i * 2)) : (ushort)_int32s![i];

    private long StoredCount(string source)
    {
        if (_raw is not null)
        {
            int size = ElementSize(DataType);
            if (size == 0) throw new InvalidDataException($"{source}: tensor '{Name}' of type {DataType} is not supported.");
            if (_raw.Length % size != 0) return -1;
            return _raw.Length / size;
        }
        return DataType switch
        {
            OnnxDataType.Float => _floats?.Length ?? 0,
            OnnxDataType.Double => _doubles?.Length ?? 0,
            OnnxDataType.Int64 => _int64s?.Length ?? 0,
            OnnxDataType.UInt32 or OnnxDataType.UInt64 => _uint64s?.Length ?? 0,
            OnnxDataType.String or OnnxDataType.Complex64 or OnnxDataType.Complex128 or OnnxDataType.Undefined =>
                throw new InvalidDataException($"{source}: tensor '{Name}' of type {DataType} is not supported."),
            _ => _int32s?.Length ?? 0,
        };
    }

    internal static int ElementSize(OnnxDataType t) => t switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.Double or OnnxDataType.Int64 or OnnxDataType.UInt64 => 8,
        OnnxDataType.Float16 or OnnxDataType.BFloat16 or OnnxDataType.Int16 or OnnxDataType.UInt16 => 2,
        OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Bool => 1,
        _ => 0,
    };

    /// <summary>Reads a TensorProto message.</summary>
    internal static OnnxTensor Parse(ref ProtoReader r, string source)
    {
        string name = "";
        var dataType = OnnxDataType.Undefined;
        var dims = new List<long>();
        byte[]? raw = null;
        List<float>? floats = null;
        List<int>? int32s = null;
        List<long>? int64s = null;
        List<double>? doubles = null;
        List<ulong>? uint64s = null;
        bool external = false;
        while (r.TryReadTag(out int field, out var wt))
        {
            switch (field)
            {
                case 1: r.ReadRepeatedInt64(wt, dims); break;
                case 2: dataType = (OnnxDataType)r.ReadInt32(); break;
                case 4: r.ReadRepeatedFloat(wt, floats ??= new()); break;
                case 5: r.ReadRepeatedInt32(wt, int32s ??= new()); break;
                case 7: r.ReadRepeatedInt64(wt, int64s ??= new()); break;
                case 8: name = r.ReadString(); break;
                case 9: raw = r.ReadBytes().ToArray(); break;
                case 10: r.ReadRepeatedDouble(wt, doubles ??= new()); break;
                case 11: r.ReadRepeatedUInt64(wt, uint64s ??= new()); break;
                case 13: external = true; r.Skip(wt); break;
                case 14: if (r.ReadInt32() == 1) external = true; break;
                default: r.Skip(wt); break;
            }
        }
        if (external) throw new InvalidDataException($"{source}: tensor '{name}' keeps its data in an external file, which is not supported.");
        return new OnnxTensor(name, dataType, dims.ToArray(), raw, floats?.ToArray(), int32s?.ToArray(), int64s?.ToArray(),
            doubles?.ToArray(), uint64s?.ToArray(), source);
    }
}
