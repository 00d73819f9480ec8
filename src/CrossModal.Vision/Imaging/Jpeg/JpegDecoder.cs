using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace CrossModal.Vision.Imaging.Jpeg;

/// <summary>
/// Decodes JPEG (JFIF/Exif) files to RGB with the output libjpeg(-turbo) gives under its default settings, which is
/// what Pillow returns: baseline and extended sequential (SOF0/SOF1) and progressive (SOF2) Huffman coding, 8-bit
/// samples, any integer subsampling (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1...), restart intervals, grayscale, YCbCr and
/// Adobe RGB. The accurate integer IDCT (<see cref="JpegIdct"/>), "fancy" triangle-filter chroma upsampling
/// (<see cref="JpegUpsampler"/>) and libjpeg's colour tables (<see cref="JpegColorConverter"/>) make the pixels
/// byte-identical to Pillow's. CMYK/YCCK, arithmetic coding, lossless and 12-bit files are refused with a message
/// naming the file. Coefficients are kept for the whole image (progressive scans need them), about 2 bytes per
/// pixel per component.
/// </summary>
public sealed class JpegDecoder
{
    // Zigzag position -> natural (row-major) index; 16 extra entries absorb the overrun of corrupt run lengths
    // (libjpeg's jpeg_natural_order has the same padding).
    private static readonly int[] NaturalOrder =
    {
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
        63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    };

    private readonly byte[] _data;
    private readonly string _source;
    private readonly ushort[]?[] _quant = new ushort[4][];
    private readonly JpegHuffmanTable?[] _dcTables = new JpegHuffmanTable[4];
    private readonly JpegHuffmanTable?[] _acTables = new JpegHuffmanTable[4];
    private JpegComponent[] _components = Array.Empty<JpegComponent>();
    private int _width, _height, _maxH, _maxV, _mcusX, _mcusY;
    private bool _progressive, _frameSeen, _jfif, _adobe;
    private int _adobeTransform = -1;
    private int _restartInterval;
    private int _eobRun;
    private int _scans;

    private JpegDecoder(byte[] data, string source)
    {
        _data = data;
        _source = source;
    }

    /// <summary>Decodes a JPEG file's bytes; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The data is not a JPEG, is truncated or corrupt, or uses an unsupported feature.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data, string source)
    {
        var decoder = new JpegDecoder(data.ToArray(), source);
        return decoder.Run();
    }

    private InvalidDataException Error(string message) => new($"{_source}: {message}");

    private RgbImage Run()
    {
        var d = _data;
        if (d.Length < 4 || d[0] != 0xFF || d[1] != 0xD8) throw Error("not a JPEG file (no SOI marker at the start).");
        int pos = 2;
        while (true)
        {
            // Find the next marker; libjpeg skips stray bytes between segments with a warning.
            while (pos < d.Length && d[pos] != 0xFF) pos++;
            while (pos < d.Length && d[pos] == 0xFF) pos++;
            if (pos >= d.Length)
            {
                if (_scans > 0) break; // no EOI: the image data is complete, libjpeg only warns
                throw Error(_frameSeen ? "JPEG data is truncated: the file ends before the first scan." : "JPEG data is truncated: no frame header found.");
            }
            int marker = d[pos++];
            if (marker == 0xD9) break; // EOI
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue; // TEM, stray RSTn: no length
            if (pos + 2 > d.Length) throw Error($"JPEG data is truncated inside marker 0x{marker:X2}.");
            int length = BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(pos));
            if (length < 2 || pos + length > d.Length)
                throw Error($"JPEG data is truncated or corrupt: segment 0x{marker:X2} at byte {pos - 2} declares {length} bytes, {d.Length - pos} remain.");
            var segment = d.AsSpan(pos + 2, length - 2);
            int next = pos + length;
            switch (marker)
            {
                case 0xC0: case 0xC1: case 0xC2: ReadFrame(segment, marker); break;
                case 0xC3: throw Error("lossless JPEG (SOF3) is not supported.");
                case 0xC5: case 0xC6: case 0xC7: throw Error($"hierarchical JPEG (SOF{marker - 0xC0}) is not supported.");
                case 0xC9: case 0xCA: case 0xCB: case 0xCD: case 0xCE: case 0xCF:
                    throw Error($"arithmetic-coded JPEG (SOF{marker - 0xC0}) is not supported.");
                case 0xC4: ReadHuffmanTables(segment); break;
                case 0xCC: throw Error("arithmetic-coded JPEG (DAC marker) is not supported.");
                case 0xDB: ReadQuantTables(segment); break;
                case 0xDD:
                    if (segment.Length < 2) throw Error("corrupt DRI segment.");
                    _restartInterval = BinaryPrimitives.ReadUInt16BigEndian(segment);
                    break;
                case 0xDA: next = ReadScan(segment, next); break;
                case 0xDC: throw Error("JPEG files that define their height with a DNL marker are not supported.");
                case 0xE0:
                    if (segment.Length >= 5 && segment[0] == 'J' && segment[1] == 'F' && segment[2] == 'I' && segment[3] == 'F' && segment[4] == 0) _jfif = true;
                    break;
                case 0xEE:
                    if (segment.Length >= 12 && segment[0] == 'A' && segment[1] == 'd' && segment[2] == 'o' && segment[3] == 'b' && segment[4] == 'e')
                    {
                        _adobe = true;
                        _adobeTransform = segment[11];
                    }
                    break;
                default: break; // APPn, COM and others carry nothing we need
            }
            pos = next;
        }
        if (!_frameSeen) throw Error("JPEG has no frame header (SOF).");
        if (_scans == 0) throw Error("JPEG has no image data (no scan before EOI).");
        return Output();
    }

    private void ReadFrame(ReadOnlySpan<byte> s, int marker)
    {
        if (_frameSeen) throw Error("JPEG has more than one frame header.");
        if (s.Length < 6) throw Error("corrupt frame header (SOF too short).");
        int precision = s[0];
        if (precision != 8) throw Error($"{precision}-bit JPEG samples are not supported (only 8-bit).");
        _height = BinaryPrimitives.ReadUInt16BigEndian(s.Slice(1));
        _width = BinaryPrimitives.ReadUInt16BigEndian(s.Slice(3));
        int n = s[5];
        if (_width == 0) throw Error("JPEG frame has zero width.");
        if (_height == 0) throw Error("JPEG files that define their height with a DNL marker are not supported.");
        if (n == 4) throw Error("CMYK/YCCK JPEG (4 components) is not supported; convert it to RGB first.");
        if (n != 1 && n != 3) throw Error($"JPEG with {n} components is not supported (expected 1 grayscale or 3 colour).");
        if (s.Length < 6 + 3 * n) throw Error("corrupt frame header (component list too short).");
        _progressive = marker == 0xC2;
        _components = new JpegComponent[n];
        for (int i = 0; i < n; i++)
        {
            int h = s[7 + 3 * i] >> 4, v = s[7 + 3 * i] & 15, tq = s[8 + 3 * i];
            if (h < 1 || h > 4 || v < 1 || v > 4) throw Error($"corrupt frame header: component {i} has sampling factors {h}x{v} (1..4 allowed).");
            if (tq > 3) throw Error($"corrupt frame header: component {i} uses quantization table {tq} (0..3 allowed).");
            _components[i] = new JpegComponent { Id = s[6 + 3 * i], H = h, V = v, QuantTableIndex = tq };
        }
        _maxH = _components.Max(c => c.H);
        _maxV = _components.Max(c => c.V);
        _mcusX = CeilDiv(_width, 8 * _maxH);
        _mcusY = CeilDiv(_height, 8 * _maxV);
        long codedBlocks = 0;
        foreach (var c in _components)
        {
            if (_maxH % c.H != 0 || _maxV % c.V != 0)
                throw Error($"unsupported subsampling: component {c.Id} has factors {c.H}x{c.V} and the largest are {_maxH}x{_maxV} (not an integer ratio).");
            c.Width = CeilDiv(_width * c.H, _maxH);
            c.Height = CeilDiv(_height * c.V, _maxV);
            c.WidthInBlocks = CeilDiv(c.Width, 8);
            c.HeightInBlocks = CeilDiv(c.Height, 8);
            // A single-component frame is never interleaved: its MCU is one block whatever the factors say.
            c.BlocksPerLine = n == 1 ? c.WidthInBlocks : _mcusX * c.H;
            c.BlocksPerColumn = n == 1 ? c.HeightInBlocks : _mcusY * c.V;
            codedBlocks += (long)c.WidthInBlocks * c.HeightInBlocks;
        }
        // Every 8x8 block of every component is coded with at least one bit (a DC code, or a DC and an EOB code), so
        // a file of N bytes holds at most 8N blocks: a frame header claiming more is corrupt, and is refused before
        // the coefficients (128 bytes per block) are allocated.
        if (codedBlocks > 8L * _data.Length)
            throw Error($"JPEG data is truncated or the frame header is corrupt: {_width} x {_height} needs {codedBlocks} coded 8x8 blocks, more than the file's {_data.Length} bytes can hold.");
        foreach (var c in _components) c.Coefficients = new short[(long)c.BlocksPerLine * c.BlocksPerColumn * 64];
        _frameSeen = true;
    }

    private void ReadQuantTables(ReadOnlySpan<byte> s)
    {
        while (s.Length > 0)
        {
            int pq = s[0] >> 4, tq = s[0] & 15;
            if (tq > 3 || pq > 1) throw Error($"corrupt quantization table header 0x{s[0]:X2}.");
            int size = pq == 0 ? 64 : 128;
            if (s.Length < 1 + size) throw Error("corrupt quantization table (segment too short).");
            var table = new ushort[64];
            for (int k = 0; k < 64; k++)
                table[NaturalOrder[k]] = pq == 0 ? s[1 + k] : BinaryPrimitives.ReadUInt16BigEndian(s.Slice(1 + 2 * k));
            _quant[tq] = table;
            s = s.Slice(1 + size);
        }
    }

    private void ReadHuffmanTables(ReadOnlySpan<byte> s)
    {
        while (s.Length > 0)
        {
            if (s.Length < 17) throw Error("corrupt Huffman table (segment too short).");
            int tc = s[0] >> 4, th = s[0] & 15;
            if (tc > 1 || th > 3) throw Error($"corrupt Huffman table header 0x{s[0]:X2}.");
            var counts = s.Slice(1, 16);
            int total = 0;
            foreach (byte c in counts) total += c;
            if (total > 256 || s.Length < 17 + total) throw Error("corrupt Huffman table (symbol count).");
            var table = new JpegHuffmanTable(counts, s.Slice(17, total), _source);
            if (tc == 0) _dcTables[th] = table; else _acTables[th] = table;
            s = s.Slice(17 + total);
        }
    }

    /// <summary>Reads a scan header and decodes its entropy-coded data; returns the position after the data.</summary>
    private int ReadScan(ReadOnlySpan<byte> s, int dataStart)
    {
        if (!_frameSeen) throw Error("scan before the frame header (SOS before SOF).");
        if (s.Length < 1) throw Error("corrupt scan header.");
        int ns = s[0];
        if (ns < 1 || ns > 4 || s.Length < 4 + 2 * ns) throw Error($"corrupt scan header ({ns} components).");
        var comps = new JpegComponent[ns];
        for (int i = 0; i < ns; i++)
        {
            int id = s[1 + 2 * i];
            var c = Array.Find(_components, x => x.Id == id) ?? throw Error($"scan refers to component {id}, which the frame does not define.");
            comps[i] = c;
            c.DcTable = s[2 + 2 * i] >> 4;
            c.AcTable = s[2 + 2 * i] & 15;
            if (c.DcTable > 3 || c.AcTable > 3) throw Error("corrupt scan header (Huffman table index above 3).");
            if (c.Quant is null)
            {
                var q = _quant[c.QuantTableIndex] ?? throw Error($"component {c.Id} uses quantization table {c.QuantTableIndex}, which is not defined.");
                c.Quant = (ushort[])q.Clone();
            }
        }
        int ss = s[1 + 2 * ns], se = s[2 + 2 * ns], ah = s[3 + 2 * ns] >> 4, al = s[3 + 2 * ns] & 15;
        if (_progressive)
        {
            if (ss == 0 && se != 0) throw Error($"corrupt progressive scan: a DC scan with Se={se}.");
            if (ss > 0 && (se < ss || se > 63 || ns != 1)) throw Error($"corrupt progressive scan: Ss={ss} Se={se} with {ns} components.");
            if (al > 13 || ah > 13) throw Error($"corrupt progressive scan: successive approximation Ah={ah} Al={al}.");
        }
        else if (ss != 0 || se != 63 || ah != 0 || al != 0)
        {
            // libjpeg only warns for nonstandard sequential parameters and decodes a full scan.
            ss = 0;
            se = 63;
        }
        if (ns > 1)
        {
            int blocks = comps.Sum(c => c.H * c.V);
            if (blocks > 10) throw Error($"corrupt scan: {blocks} blocks per MCU (at most 10 allowed).");
        }
        foreach (var c in comps)
        {
            bool needDc = !_progressive || (ss == 0 && ah == 0);
            bool needAc = !_progressive || ss > 0;
            if (needDc && _dcTables[c.DcTable] is null) throw Error($"scan uses DC Huffman table {c.DcTable}, which is not defined.");
            if (needAc && _acTables[c.AcTable] is null) throw Error($"scan uses AC Huffman table {c.AcTable}, which is not defined.");
        }
        _scans++;
        return DecodeScan(comps, ss, se, ah, al, dataStart);
    }

    private delegate void BlockDecoder(ref JpegBitReader bits, JpegComponent c, int blockIndex);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int DecodeScan(JpegComponent[] comps, int ss, int se, int ah, int al, int dataStart)
    {
        var bits = new JpegBitReader(_data, dataStart);
        foreach (var c in comps) c.DcPredictor = 0;
        _eobRun = 0;
        int kind = !_progressive ? 0 : ss == 0 ? (ah == 0 ? 1 : 2) : (ah == 0 ? 3 : 4);

        bool single = comps.Length == 1;
        int unitsX = single ? comps[0].WidthInBlocks : _mcusX;
        int unitsY = single ? comps[0].HeightInBlocks : _mcusY;
        long total = (long)unitsX * unitsY;
        int restartsToGo = _restartInterval;
        int expectedRst = 0;
        bool insufficient = false;
        for (long unit = 0; unit < total; unit++)
        {
            if (_restartInterval > 0 && restartsToGo == 0)
            {
                // Restart: predictors, EOB run and the bit buffer start afresh after the RSTn marker.
                bits.Restart(0xD0 + expectedRst);
                expectedRst = (expectedRst + 1) & 7;
                restartsToGo = _restartInterval;
                foreach (var c in comps) c.DcPredictor = 0;
                _eobRun = 0;
                insufficient = false;
            }
            if (!insufficient)
            {
                int uy = (int)(unit / unitsX), ux = (int)(unit % unitsX);
                if (single)
                {
                    var c = comps[0];
                    DecodeBlock(kind, ref bits, c, uy * c.BlocksPerLine + ux, ss, se, ah, al);
                }
                else
                {
                    foreach (var c in comps)
                        for (int v = 0; v < c.V; v++)
                            for (int h = 0; h < c.H; h++)
                                DecodeBlock(kind, ref bits, c, (uy * c.V + v) * c.BlocksPerLine + ux * c.H + h, ss, se, ah, al);
                }
                if (bits.Exhausted)
                {
                    if (bits.HitEnd) throw Error($"JPEG data is truncated: scan {_scans} ends after {unit} of {total} MCUs.");
                    // A marker inside the data: libjpeg warns ("premature end of data segment") and leaves the
                    // rest of the restart interval at zero (uniform grey), so do we.
                    insufficient = true;
                }
            }
            if (_restartInterval > 0) restartsToGo--;
        }
        bits.Reset();
        return bits.Position;
    }

    private void DecodeBlock(int kind, ref JpegBitReader bits, JpegComponent c, int blockIndex, int ss, int se, int ah, int al)
    {
        var block = c.Coefficients.AsSpan(blockIndex * 64, 64);
        switch (kind)
        {
            case 0: DecodeSequential(ref bits, c, block); break;
            case 1:
                {
                    int t = _dcTables[c.DcTable]!.Decode(ref bits);
                    int diff = bits.Receive(t);
                    c.DcPredictor += diff;
                    block[0] = (short)(c.DcPredictor << al);
                    break;
                }
            case 2:
                if (bits.GetBit() != 0) block[0] |= (short)(1 << al);
                break;
            case 3: DecodeAcFirst(ref bits, c, block, ss, se, al); break;
            default: DecodeAcRefine(ref bits, c, block, ss, se, al); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeSequential(ref JpegBitReader bits, JpegComponent c, Span<short> block)
    {
        var dc = _dcTables[c.DcTable]!;
        var ac = _acTables[c.AcTable]!;
        int t = dc.Decode(ref bits);
        c.DcPredictor += bits.Receive(t);
        block[0] = (short)c.DcPredictor;
        for (int k = 1; k < 64; k++)
        {
            int rs = ac.Decode(ref bits);
            int r = rs >> 4, s = rs & 15;
            if (s != 0)
            {
                k += r;
                block[NaturalOrder[k]] = (short)bits.Receive(s);
            }
            else
            {
                if (r != 15) break;
                k += 15;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeAcFirst(ref JpegBitReader bits, JpegComponent c, Span<short> block, int ss, int se, int al)
    {
        if (_eobRun > 0)
        {
            _eobRun--;
            return;
        }
        var ac = _acTables[c.AcTable]!;
        for (int k = ss; k <= se; k++)
        {
            int rs = ac.Decode(ref bits);
            int r = rs >> 4, s = rs & 15;
            if (s != 0)
            {
                k += r;
                block[NaturalOrder[k]] = (short)(bits.Receive(s) * (1 << al));
            }
            else if (r == 15) k += 15;
            else
            {
                _eobRun = (1 << r) - 1;
                if (r > 0) _eobRun += bits.GetBits(r);
                break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeAcRefine(ref JpegBitReader bits, JpegComponent c, Span<short> block, int ss, int se, int al)
    {
        int p1 = 1 << al, m1 = -1 << al;
        int k = ss;
        if (_eobRun == 0)
        {
            var ac = _acTables[c.AcTable]!;
            for (; k <= se; k++)
            {
                int rs = ac.Decode(ref bits);
                int r = rs >> 4, s = rs & 15;
                int value = 0;
                if (s != 0)
                {
                    // s must be 1 in a refinement scan (libjpeg warns otherwise and carries on).
                    value = bits.GetBit() != 0 ? p1 : m1;
                }
                else if (r != 15)
                {
                    _eobRun = 1 << r;
                    if (r > 0) _eobRun += bits.GetBits(r);
                    break;
                }
                // Skip r zero-history coefficients, refining the nonzero ones passed on the way.
                do
                {
                    int z = NaturalOrder[k];
                    if (block[z] != 0) RefineBit(ref bits, ref block[z], p1, m1);
                    else
                    {
                        if (--r < 0) break;
                    }
                    k++;
                } while (k <= se);
                if (value != 0 && k <= 63 + 16) block[NaturalOrder[k]] = (short)value;
            }
        }
        if (_eobRun > 0)
        {
            // In an end-of-band run: only refine the coefficients that are already nonzero.
            for (; k <= se; k++)
            {
                int z = NaturalOrder[k];
                if (block[z] != 0) RefineBit(ref bits, ref block[z], p1, m1);
            }
            _eobRun--;
        }
    }

    private static void RefineBit(ref JpegBitReader bits, ref short coef, int p1, int m1)
    {
        if (bits.GetBit() != 0 && (coef & p1) == 0)
            coef = (short)(coef >= 0 ? coef + p1 : coef + m1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private RgbImage Output()
    {
        int n = _components.Length;
        var planes = new byte[n][];
        var strides = new int[n];
        for (int i = 0; i < n; i++)
        {
            var c = _components[i];
            if (c.Quant is null) throw Error($"component {c.Id} never appears in a scan.");
            int stride = c.WidthInBlocks * 8;
            var plane = new byte[stride * c.HeightInBlocks * 8];
            for (int by = 0; by < c.HeightInBlocks; by++)
                for (int bx = 0; bx < c.WidthInBlocks; bx++)
                    JpegIdct.Transform(c.Coefficients.AsSpan((by * c.BlocksPerLine + bx) * 64, 64), c.Quant,
                        plane.AsSpan(by * 8 * stride + bx * 8), stride);
            c.Coefficients = Array.Empty<short>();
            if (c.H == _maxH && c.V == _maxV)
            {
                planes[i] = plane;
                strides[i] = stride;
            }
            else
            {
                var full = new byte[_width * _height];
                JpegUpsampler.Upsample(plane, stride, c.Width, c.Height, _maxH / c.H, _maxV / c.V, full, _width, _height);
                planes[i] = full;
                strides[i] = _width;
            }
        }

        var rgb = new byte[_width * _height * 3];
        if (n == 1)
        {
            for (int y = 0; y < _height; y++)
            {
                var src = planes[0].AsSpan(y * strides[0], _width);
                var dst = rgb.AsSpan(y * _width * 3, _width * 3);
                for (int x = 0; x < _width; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = src[x];
            }
            return RgbImage.Wrap(_width, _height, rgb);
        }

        bool isRgb = ColorSpaceIsRgb();
        for (int y = 0; y < _height; y++)
        {
            var c0 = planes[0].AsSpan(y * strides[0], _width);
            var c1 = planes[1].AsSpan(y * strides[1], _width);
            var c2 = planes[2].AsSpan(y * strides[2], _width);
            var dst = rgb.AsSpan(y * _width * 3, _width * 3);
            if (isRgb)
            {
                for (int x = 0; x < _width; x++)
                {
                    dst[3 * x] = c0[x];
                    dst[3 * x + 1] = c1[x];
                    dst[3 * x + 2] = c2[x];
                }
            }
            else JpegColorConverter.YCbCrToRgb(c0, c1, c2, dst);
        }
        return RgbImage.Wrap(_width, _height, rgb);
    }

    /// <summary>libjpeg's rule for three components: JFIF means YCbCr; else the Adobe transform flag; else IDs 'R','G','B'.</summary>
    private bool ColorSpaceIsRgb()
    {
        if (_jfif) return false;
        if (_adobe) return _adobeTransform == 0;
        return _components[0].Id == 'R' && _components[1].Id == 'G' && _components[2].Id == 'B';
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;
}
