using System.Buffers.Binary;

namespace CrossModal.Checkpoints.Pickle;

/// <summary>
/// Reads a pickle from a seekable stream without ever trusting a length field: every length is checked against
/// the bytes that actually remain before anything is allocated, so a hostile "4 GB string" header costs nothing.
/// Errors name the source and the byte position.
/// </summary>
internal sealed class PickleInput
{
    private readonly Stream _stream;
    private readonly long _end;
    private readonly long _start;

    /// <param name="stream">Seekable stream positioned at the pickle.</param>
    /// <param name="end">Position after the last readable byte.</param>
    /// <param name="fileName">The file, first in every message.</param>
    /// <param name="section">The part of the file ("archive/data.pkl", "object pickle").</param>
    public PickleInput(Stream stream, long end, string fileName, string section)
    {
        _stream = stream;
        _start = stream.Position;
        _end = end;
        FileName = fileName;
        Source = $"{fileName}: {section}";
    }

    public string FileName { get; }

    public string Source { get; }

    /// <summary>Offset from the start of this pickle section.</summary>
    public long Offset => _stream.Position - _start;

    public long Remaining => _end - _stream.Position;

    public InvalidDataException Error(string message) => new($"{Source}: {message} (at byte {Offset}).");

    public byte ReadByte()
    {
        if (Remaining < 1) throw Truncated(1);
        int b = _stream.ReadByte();
        if (b < 0) throw Truncated(1);
        return (byte)b;
    }

    public void ReadExactly(Span<byte> buffer)
    {
        if (Remaining < buffer.Length) throw Truncated(buffer.Length);
        try
        {
            _stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw Truncated(buffer.Length);
        }
    }

    /// <summary>Reads <paramref name="count"/> bytes; the count is checked against what remains before allocating.</summary>
    public byte[] ReadBytes(long count, string what)
    {
        if (count < 0) throw Error($"negative length {count} for {what}");
        if (count > Remaining) throw Error($"{what} claims {count} bytes but only {Remaining} remain; the file is truncated or corrupt");
        var data = new byte[count];
        ReadExactly(data);
        return data;
    }

    public ushort ReadUInt16()
    {
        Span<byte> b = stackalloc byte[2];
        ReadExactly(b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }

    public int ReadInt32()
    {
        Span<byte> b = stackalloc byte[4];
        ReadExactly(b);
        return BinaryPrimitives.ReadInt32LittleEndian(b);
    }

    public uint ReadUInt32()
    {
        Span<byte> b = stackalloc byte[4];
        ReadExactly(b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public ulong ReadUInt64()
    {
        Span<byte> b = stackalloc byte[8];
        ReadExactly(b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    public double ReadDoubleBigEndian()
    {
        Span<byte> b = stackalloc byte[8];
        ReadExactly(b);
        return BinaryPrimitives.ReadDoubleBigEndian(b);
    }

    /// <summary>Reads a newline-terminated line (protocol 0 arguments) of at most <paramref name="maxLength"/> bytes, without the newline.</summary>
    public byte[] ReadLine(int maxLength, string what)
    {
        using var line = new MemoryStream();
        while (true)
        {
            byte b = ReadByte();
            if (b == (byte)'\n') return line.ToArray();
            if (line.Length >= maxLength) throw Error($"{what} is longer than {maxLength} bytes");
            line.WriteByte(b);
        }
    }

    private InvalidDataException Truncated(int wanted) =>
        Error($"unexpected end of data: needed {wanted} more byte(s), {Math.Max(0, Remaining)} remain; the file is truncated or corrupt");
}
