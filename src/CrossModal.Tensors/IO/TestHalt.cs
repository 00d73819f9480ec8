namespace CrossModal.Tensors.IO;

/// <summary>
/// A seam for crash tests only. <c>CROSSMODAL_TEST_HALT=NAME:N:BYTES</c> stops this process inside its N-th atomic
/// write (1-based, counted per process) of a file named NAME once BYTES bytes of the new content are on disk in the
/// temporary file, or, with <c>NAME:N:done</c>, right after the new file has replaced the old one. It prints
/// "CROSSMODAL_TEST_HALT reached: ..." on stderr and waits, so the test kills it (SIGKILL) at exactly that point;
/// nothing else changes. Unset, as always outside those tests, it costs one environment lookup per process.
/// </summary>
internal static class TestHalt
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "CROSSMODAL_TEST_HALT";

    /// <summary>Halt after the rename rather than after some bytes.</summary>
    public const long AfterRename = -1;

    private static readonly Lazy<(string Name, int Write, long Bytes)?> Spec = new(() => Parse(Environment.GetEnvironmentVariable(Variable)));
    private static int _writes;

    /// <summary>
    /// For the write that must halt: the bytes after which to halt, or <see cref="AfterRename"/>; null for every
    /// other write.
    /// </summary>
    public static long? ForWrite(string fullPath)
    {
        if (Spec.Value is not { } spec || Path.GetFileName(fullPath) != spec.Name) return null;
        return Interlocked.Increment(ref _writes) == spec.Write ? spec.Bytes : null;
    }

    /// <summary>Says where the process stopped and waits to be killed.</summary>
    public static void Halt(string where)
    {
        Console.Error.WriteLine($"{Variable} reached: {where}");
        Console.Error.Flush();
        Thread.Sleep(Timeout.Infinite);
    }

    private static (string, int, long)? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        var parts = value.Split(':');
        if (parts.Length == 3 && parts[0].Length > 0 && int.TryParse(parts[1], out int n) && n > 0)
        {
            if (parts[2] == "done") return (parts[0], n, AfterRename);
            if (long.TryParse(parts[2], out long bytes) && bytes >= 0) return (parts[0], n, bytes);
        }
        throw new InvalidOperationException($"{Variable}={value}: expected NAME:N:BYTES or NAME:N:done (a test seam; unset it).");
    }

    /// <summary>Passes writes through until the byte limit, then puts those bytes on disk and halts.</summary>
    public sealed class HaltingStream(FileStream inner, long haltAt) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => true;
        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            long room = haltAt - _written;
            if (buffer.Length < room)
            {
                inner.Write(buffer);
                _written += buffer.Length;
                return;
            }
            inner.Write(buffer[..(int)room]);
            inner.Flush(flushToDisk: true);
            Halt($"{inner.Name} after {haltAt} bytes");
        }

        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => inner.SetLength(value);
    }
}
