namespace CrossModal.Vision.Imaging.Jpeg;

/// <summary>
/// A Huffman table from a DHT segment, prepared for decoding (ITU T.81 Annex C/F.2.2.3): a 9-bit lookahead table
/// resolves most codes in one probe; longer codes fall back to the per-length MAXCODE/VALPTR search.
/// </summary>
internal sealed class JpegHuffmanTable
{
    /// <summary>Lookahead width in bits; 9 covers almost all codes of typical tables at 512 entries.</summary>
    public const int LookaheadBits = 9;

    // For each LookaheadBits-bit prefix: (code length << 8) | symbol, or 0 when the code is longer.
    private readonly ushort[] _lookahead = new ushort[1 << LookaheadBits];
    private readonly int[] _maxCode = new int[18];
    private readonly int[] _valOffset = new int[17];
    private readonly byte[] _values;

    public JpegHuffmanTable(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> values, string source)
    {
        // counts[i] = number of codes of length i + 1.
        _values = values.ToArray();
        int code = 0, k = 0;
        for (int len = 1; len <= 16; len++)
        {
            int n = counts[len - 1];
            _valOffset[len] = k - code;
            if (n > 0)
            {
                for (int i = 0; i < n; i++, k++, code++)
                {
                    // Checked before the code is used: too many short codes would write past the lookahead table.
                    if (code >= 1 << len) throw new InvalidDataException($"{source}: corrupt Huffman table (more codes of length {len} than fit).");
                    if (len <= LookaheadBits)
                    {
                        int shift = LookaheadBits - len;
                        int start = code << shift, end = (code + 1) << shift;
                        for (int p = start; p < end; p++) _lookahead[p] = (ushort)((len << 8) | _values[k]);
                    }
                }
                _maxCode[len] = code - 1;
            }
            else _maxCode[len] = -1;
            // As libjpeg (jdhuff.c): the codes of each length must leave the all-ones code unused.
            if (code >= (1 << len)) throw new InvalidDataException($"{source}: corrupt Huffman table (more codes of length {len} than fit).");
            code <<= 1;
        }
        _maxCode[17] = int.MaxValue; // sentinel: ends the search
    }

    /// <summary>Decodes one symbol from the bit reader.</summary>
    public int Decode(ref JpegBitReader bits)
    {
        bits.EnsureBits(16);
        int peek = (int)bits.PeekBits(LookaheadBits);
        int entry = _lookahead[peek];
        if (entry != 0)
        {
            bits.SkipBits(entry >> 8);
            return entry & 0xFF;
        }
        int code = (int)bits.PeekBits(16);
        for (int len = LookaheadBits + 1; len <= 16; len++)
        {
            int c = code >> (16 - len);
            if (c <= _maxCode[len])
            {
                bits.SkipBits(len);
                return _values[c + _valOffset[len]];
            }
        }
        // libjpeg's behaviour for an impossible code: warn and return symbol 0 (consume nothing more).
        bits.MarkCorrupt();
        bits.SkipBits(16);
        return 0;
    }
}
