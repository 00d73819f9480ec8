namespace CrossModal.Search.IO;

/// <summary>Bulk reads and writes of native memory through streams, and the 64-byte padding of section arrays.</summary>
internal static unsafe class SectionIO
{
    /// <summary>Largest piece moved per call (Span lengths are int).</summary>
    private const int Piece = 1 << 30;

    /// <summary><paramref name="bytes"/> rounded up to a multiple of 64.</summary>
    public static long Padded(long bytes) => (bytes + 63) & ~63L;

    public static void Write(Stream stream, byte* data, long bytes)
    {
        for (long done = 0; done < bytes;)
        {
            int n = (int)Math.Min(Piece, bytes - done);
            stream.Write(new ReadOnlySpan<byte>(data + done, n));
            done += n;
        }
    }

    /// <summary>Writes zeros up to the next multiple of 64 after an array of <paramref name="bytes"/> bytes.</summary>
    public static void WritePadding(Stream stream, long bytes)
    {
        int pad = (int)(Padded(bytes) - bytes);
        if (pad > 0) stream.Write(stackalloc byte[pad]);
    }

    public static void ReadExactly(Stream stream, byte* data, long bytes, string source)
    {
        for (long done = 0; done < bytes;)
        {
            int n = (int)Math.Min(Piece, bytes - done);
            int got = stream.ReadAtLeast(new Span<byte>(data + done, n), n, throwOnEndOfStream: false);
            if (got < n)
                throw new InvalidDataException($"{source}: truncated vector index section: {bytes - done - got} more bytes expected after {done + got} of an array of {bytes}.");
            done += n;
        }
    }

    /// <summary>Reads and discards the padding after an array of <paramref name="bytes"/> bytes.</summary>
    public static void SkipPadding(Stream stream, long bytes, string source)
    {
        int pad = (int)(Padded(bytes) - bytes);
        if (pad == 0) return;
        Span<byte> skip = stackalloc byte[pad];
        fixed (byte* p = skip) ReadExactly(stream, p, pad, source);
    }
}
