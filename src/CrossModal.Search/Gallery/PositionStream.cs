namespace CrossModal.Search.Gallery;

/// <summary>
/// A write-only pass-through that counts the bytes written, so that the gallery writer knows each section's offset
/// without seeking (the atomic writer's stream need not be seekable).
/// </summary>
internal sealed class PositionStream(Stream inner) : Stream
{
    private long _position;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _position;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        _position += buffer.Length;
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Writes zeros up to the next multiple of 64.</summary>
    public void Align()
    {
        int pad = (int)(((_position + 63) & ~63L) - _position);
        if (pad > 0) Write(stackalloc byte[pad]);
    }

    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
