using System.Runtime.CompilerServices;

namespace CrossModal.Vision.Imaging.Jpeg;

/// <summary>
/// Reads the entropy-coded segment of a scan MSB-first: removes the 0x00 stuffed after each 0xFF and stops in front
/// of any marker. Past a marker or the end of the file it supplies zero bits, as libjpeg does; whether real data ran
/// out is recorded so the decoder can react the way libjpeg does (a marker: the rest of the restart interval is
/// left at zero, "premature end of data segment"; the end of the file: the image is truncated).
/// </summary>
internal ref struct JpegBitReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;
    private ulong _buffer;    // valid bits are left-aligned
    private int _count;       // number of valid bits in _buffer (real or padding)
    private int _padding;     // zero bits appended after real data ended (they sit at the tail of the buffer)

    public JpegBitReader(ReadOnlySpan<byte> data, int position)
    {
        _data = data;
        _position = position;
        _buffer = 0;
        _count = 0;
        _padding = 0;
        HitMarker = false;
        HitEnd = false;
        Corrupt = false;
    }

    /// <summary>Position of the next unread byte in the file.</summary>
    public readonly int Position => _position;

    /// <summary>Real data ended at a marker (not the end of the file).</summary>
    public bool HitMarker { get; private set; }

    /// <summary>Real data ended at the end of the file.</summary>
    public bool HitEnd { get; private set; }

    /// <summary>A code that no Huffman table contains was seen.</summary>
    public bool Corrupt { get; private set; }

    /// <summary>True once a bit beyond the real data has been consumed.</summary>
    public readonly bool Exhausted => _padding > _count;

    public void MarkCorrupt() => Corrupt = true;

    /// <summary>Makes at least <paramref name="n"/> (&lt;= 57) bits available, padding with zeros past the data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EnsureBits(int n)
    {
        if (_count >= n) return;
        Fill();
    }

    private void Fill()
    {
        while (_count <= 56)
        {
            int b = 0;
            if (_padding == 0 && _position < _data.Length)
            {
                b = _data[_position];
                if (b == 0xFF)
                {
                    int next = _position + 1 < _data.Length ? _data[_position + 1] : -1;
                    if (next == 0x00) _position += 2;
                    else if (next == 0xFF) { _position++; continue; } // fill byte before a marker
                    else
                    {
                        if (next < 0) HitEnd = true; else HitMarker = true;
                        StartPadding();
                        continue;
                    }
                }
                else _position++;
                _buffer |= (ulong)b << (56 - _count);
                _count += 8;
            }
            else
            {
                if (_padding == 0)
                {
                    HitEnd = _position >= _data.Length;
                    StartPadding();
                    continue;
                }
                _count += 8;
                _padding += 8;
            }
        }
    }

    private void StartPadding()
    {
        // Zero bits: the buffer is already zero below the valid bits, only the counters move.
        _count += 8;
        _padding = 8;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly uint PeekBits(int n) => (uint)(_buffer >> (64 - n));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SkipBits(int n)
    {
        _buffer <<= n;
        _count -= n;
    }

    /// <summary>Reads <paramref name="n"/> (0..16) bits as an unsigned value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetBits(int n)
    {
        if (n == 0) return 0;
        EnsureBits(n);
        int v = (int)PeekBits(n);
        SkipBits(n);
        return v;
    }

    /// <summary>Reads one bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetBit()
    {
        EnsureBits(1);
        int v = (int)(_buffer >> 63);
        SkipBits(1);
        return v;
    }

    /// <summary>Reads an <paramref name="s"/>-bit magnitude category value and sign-extends it (T.81 F.2.2.1 EXTEND).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Receive(int s)
    {
        if (s == 0) return 0;
        int v = GetBits(s);
        return v < (1 << (s - 1)) ? v - (1 << s) + 1 : v;
    }

    /// <summary>
    /// Drops the buffered bits at a restart boundary and consumes the expected RSTn marker if it is next.
    /// Returns false when another marker (or the end of data) is found instead; the stream stays in front of it.
    /// </summary>
    public bool Restart(int expectedMarker)
    {
        _buffer = 0;
        _count = 0;
        _padding = 0;
        HitMarker = false;
        // Skip to the marker: any bytes before it are padding left over from the interval.
        while (_position < _data.Length && _data[_position] != 0xFF) _position++;
        while (_position + 1 < _data.Length && _data[_position] == 0xFF && _data[_position + 1] == 0xFF) _position++;
        if (_position + 1 < _data.Length && _data[_position] == 0xFF && _data[_position + 1] == expectedMarker)
        {
            _position += 2;
            return true;
        }
        return false;
    }

    /// <summary>Discards the bit buffer (end of scan); <see cref="Position"/> is at or before the next marker.</summary>
    public void Reset()
    {
        _buffer = 0;
        _count = 0;
        _padding = 0;
    }
}
