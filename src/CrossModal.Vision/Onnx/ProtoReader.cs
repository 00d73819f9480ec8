using System.Buffers.Binary;

namespace CrossModal.Vision.Onnx;

/// <summary>
/// Reads the protocol-buffers wire format (the subset ONNX uses: varints, fixed32/64, length-delimited fields) from
/// a span, without reflection or generated code. A message is read as a loop over <see cref="TryReadTag"/>; fields
/// the caller does not know are skipped with <see cref="Skip"/>, as protobuf requires. Every malformed length or
/// varint throws <see cref="InvalidDataException"/> naming the source and the byte offset.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _source;
    private readonly int _baseOffset;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data, string source, int baseOffset = 0)
    {
        _data = data;
        _source = source;
        _baseOffset = baseOffset;
        _position = 0;
    }

    /// <summary>Offset of the next byte from the start of the file (for messages).</summary>
    public readonly int Offset => _baseOffset + _position;

    /// <summary>Reads the next field's number and wire type; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out ProtoWireType wireType)
    {
        if (_position >= _data.Length)
        {
            field = 0;
            wireType = 0;
            return false;
        }
        ulong tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (ProtoWireType)(tag & 7);
        if (field <= 0) throw Error($"invalid field number {field}");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length) throw Error("truncated varint");
            byte b = _data[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw Error("varint longer than 10 bytes");
    }

    public long ReadInt64() => (long)ReadVarint();

    public int ReadInt32() => (int)(long)ReadVarint();

    public uint ReadFixed32()
    {
        if (_position + 4 > _data.Length) throw Error("truncated fixed32");
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(_data.Slice(_position));
        _position += 4;
        return v;
    }

    public ulong ReadFixed64()
    {
        if (_position + 8 > _data.Length) throw Error("truncated fixed64");
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(_data.Slice(_position));
        _position += 8;
        return v;
    }

    public float ReadFloat() => BitConverter.UInt32BitsToSingle(ReadFixed32());

    public double ReadDouble() => BitConverter.UInt64BitsToDouble(ReadFixed64());

    /// <summary>Reads a length-delimited field's bytes and returns a reader positioned over them.</summary>
    public ProtoReader ReadMessage()
    {
        var bytes = ReadBytes();
        return new ProtoReader(bytes, _source, Offset - bytes.Length);
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong len = ReadVarint();
        if (len > (ulong)(_data.Length - _position)) throw Error($"length {len} runs past the end of the message ({_data.Length - _position} bytes left)");
        var s = _data.Slice(_position, (int)len);
        _position += (int)len;
        return s;
    }

    public string ReadString() => System.Text.Encoding.UTF8.GetString(ReadBytes());

    /// <summary>Skips a field of the given wire type.</summary>
    public void Skip(ProtoWireType wireType)
    {
        switch (wireType)
        {
            case ProtoWireType.Varint: ReadVarint(); break;
            case ProtoWireType.Fixed64: ReadFixed64(); break;
            case ProtoWireType.LengthDelimited: ReadBytes(); break;
            case ProtoWireType.Fixed32: ReadFixed32(); break;
            default: throw Error($"unsupported wire type {(int)wireType} (groups are not used by ONNX)");
        }
    }

    /// <summary>Appends a repeated int64 field (packed or one element).</summary>
    public void ReadRepeatedInt64(ProtoWireType wireType, List<long> into)
    {
        if (wireType == ProtoWireType.Varint) { into.Add(ReadInt64()); return; }
        Expect(wireType, ProtoWireType.LengthDelimited, "repeated int64");
        var inner = ReadMessage();
        while (!inner.AtEnd) into.Add(inner.ReadInt64());
    }

    /// <summary>Appends a repeated int32 field (packed or one element).</summary>
    public void ReadRepeatedInt32(ProtoWireType wireType, List<int> into)
    {
        if (wireType == ProtoWireType.Varint) { into.Add(ReadInt32()); return; }
        Expect(wireType, ProtoWireType.LengthDelimited, "repeated int32");
        var inner = ReadMessage();
        while (!inner.AtEnd) into.Add(inner.ReadInt32());
    }

    /// <summary>Appends a repeated uint64 field (packed or one element).</summary>
    public void ReadRepeatedUInt64(ProtoWireType wireType, List<ulong> into)
    {
        if (wireType == ProtoWireType.Varint) { into.Add(ReadVarint()); return; }
        Expect(wireType, ProtoWireType.LengthDelimited, "repeated uint64");
        var inner = ReadMessage();
        while (!inner.AtEnd) into.Add(inner.ReadVarint());
    }

    /// <summary>Appends a repeated float field (packed or one element).</summary>
    public void ReadRepeatedFloat(ProtoWireType wireType, List<float> into)
    {
        if (wireType == ProtoWireType.Fixed32) { into.Add(ReadFloat()); return; }
        Expect(wireType, ProtoWireType.LengthDelimited, "repeated float");
        var bytes = ReadBytes();
        if (bytes.Length % 4 != 0) throw Error($"packed floats of {bytes.Length} bytes (not a multiple of 4)");
        for (int i = 0; i < bytes.Length; i += 4) into.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i)));
    }

    /// <summary>Appends a repeated double field (packed or one element).</summary>
    public void ReadRepeatedDouble(ProtoWireType wireType, List<double> into)
    {
        if (wireType == ProtoWireType.Fixed64) { into.Add(ReadDouble()); return; }
        Expect(wireType, ProtoWireType.LengthDelimited, "repeated double");
        var bytes = ReadBytes();
        if (bytes.Length % 8 != 0) throw Error($"packed doubles of {bytes.Length} bytes (not a multiple of 8)");
        for (int i = 0; i < bytes.Length; i += 8) into.Add(BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(i)));
    }

    public readonly bool AtEnd => _position >= _data.Length;

    public readonly void Expect(ProtoWireType found, ProtoWireType expected, string what)
    {
        if (found != expected) throw Error($"{what} has wire type {(int)found}, expected {(int)expected}");
    }

    public readonly InvalidDataException Error(string message) =>
        new($"{_source}: malformed protobuf at byte {Offset}: {message}.");
}
