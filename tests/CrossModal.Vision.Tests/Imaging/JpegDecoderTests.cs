using CrossModal.Tests;
using CrossModal.Vision.Imaging;

namespace CrossModal.Vision.Tests.Imaging;

/// <summary>
/// JPEG decoding against Pillow 9.4 / libjpeg-turbo 2.1.5 (fixtures made by make_fixtures.py, cross-checked with
/// djpeg there). Tolerance: none - the pixels must be byte-identical.
/// </summary>
public class JpegDecoderTests
{
    public static TheoryData<string> Variants()
    {
        var data = new TheoryData<string>();
        foreach (var name in VisionFixtures.Manifest("jpeg").Keys.OrderBy(n => n, StringComparer.Ordinal)) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Should_MatchPillowByteForByte_ForEachVariant(string name)
    {
        var entry = VisionFixtures.Manifest("jpeg")[name];
        var image = ImageDecoder.Decode(VisionFixtures.Path("jpeg", name));
        Assert.Equal(entry.GetProperty("width").GetInt32(), image.Width);
        Assert.Equal(entry.GetProperty("height").GetInt32(), image.Height);
        var expected = VisionFixtures.ReadGz(VisionFixtures.Path("jpeg", Path.ChangeExtension(name, ".rgb.gz")));
        VisionFixtures.AssertSamePixels(expected, image.Pixels, image.Width, name);
        Assert.Equal(entry.GetProperty("sha256").GetString(), VisionFixtures.Sha256(image.Pixels));
    }

    public static TheoryData<string> Flickr8k()
    {
        var data = new TheoryData<string>();
        foreach (var line in File.ReadLines(VisionFixtures.Path("jpeg", "f8k_expected.tsv")).Skip(1))
            if (line.Length > 0) data.Add(line.Split('\t')[0]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Flickr8k))]
    public void Should_MatchPillow_OnRealFlickr8kJpegs_DecodedAndResized(string file)
    {
        var f = File.ReadLines(VisionFixtures.Path("jpeg", "f8k_expected.tsv")).Select(l => l.Split('\t')).First(p => p[0] == file);
        var image = ImageDecoder.Decode(TestData.Path("f8k-1k", "images", file));
        Assert.Equal(int.Parse(f[1]), image.Width);
        Assert.Equal(int.Parse(f[2]), image.Height);
        Assert.Equal(f[4], Format(image[0, 0]));
        Assert.Equal(f[5], Format(image[image.Width / 2, image.Height / 2]));
        Assert.Equal(f[3], VisionFixtures.Sha256(image.Pixels));
        var resized = ImageResize.Bilinear(image, 224, 224);
        Assert.Equal(f[6], VisionFixtures.Sha256(resized.Pixels));
    }

    private static string Format((byte R, byte G, byte B) p) => $"{p.R},{p.G},{p.B}";

    [Theory]
    [InlineData("refused_arithmetic.jpg", "arithmetic")]
    [InlineData("refused_cmyk.jpg", "CMYK")]
    public void Should_RefuseUnsupportedJpeg_WithMessageNamingFile(string name, string reason)
    {
        var path = VisionFixtures.Path("jpeg", name);
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Theory]
    [InlineData("baseline_420.jpg")]
    [InlineData("progressive_444.jpg")]
    public void Should_ReportTruncatedFile_NamingIt(string name)
    {
        var bytes = File.ReadAllBytes(VisionFixtures.Path("jpeg", name));
        var cut = bytes.AsSpan(0, bytes.Length * 2 / 3).ToArray();
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(cut, "cut.jpg"));
        Assert.StartsWith("cut.jpg:", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Should_RejectNonImageData_NamingTheFile()
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode("hello"u8, "notes.txt"));
        Assert.Contains("notes.txt", e.Message);
        Assert.Contains("not a JPEG or PNG", e.Message);
        Assert.Throws<FileNotFoundException>(() => ImageDecoder.Decode("/nonexistent/image.jpg"));
    }

    [Fact]
    public void Should_DecodeGrayscaleAsEqualChannels()
    {
        var image = ImageDecoder.Decode(VisionFixtures.Path("jpeg", "grayscale.jpg"));
        var px = image.Pixels;
        for (int i = 0; i < px.Length; i += 3)
        {
            Assert.Equal(px[i], px[i + 1]);
            Assert.Equal(px[i], px[i + 2]);
        }
    }

    // Found by the fuzz runner (issue 20): a DHT segment with more short codes than fit wrote past the 9-bit
    // lookahead table (IndexOutOfRangeException) before the table was checked. Tables that use the all-ones code
    // are refused as libjpeg refuses them (jdhuff.c, JERR_BAD_HUFF_TABLE).
    [Theory]
    [InlineData(3)] // three 1-bit codes: impossible
    [InlineData(2)] // two 1-bit codes: "0" and the all-ones "1"
    public void Should_RefuseAHuffmanTableWithTooManyShortCodes(int oneBitCodes)
    {
        var bytes = File.ReadAllBytes(VisionFixtures.Path("jpeg", "baseline_420.jpg"));
        int dht = Segment(bytes, 0xC4);
        // Table header at dht + 4; 16 counts follow. Move symbols into length 1 without changing the total.
        int counts = dht + 5;
        int total = 0;
        for (int i = 0; i < 16; i++) total += bytes[counts + i];
        Assert.True(total >= oneBitCodes);
        for (int i = 0; i < 16; i++) bytes[counts + i] = 0;
        bytes[counts] = (byte)oneBitCodes;
        bytes[counts + 15] = (byte)(total - oneBitCodes);
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(bytes, "dht.jpg"));
        Assert.StartsWith("dht.jpg: corrupt Huffman table", e.Message);
    }

    // Found by the fuzz runner (issue 20): a frame header claiming 65535 x 65535 pixels made the decoder allocate
    // coefficients for all of them (up to gigabytes) before reading any data. A coded block takes at least one bit.
    [Fact]
    public void Should_RefuseAFrameLargerThanTheFileCanCode_BeforeAllocating()
    {
        var bytes = File.ReadAllBytes(VisionFixtures.Path("jpeg", "baseline_420.jpg"));
        int sof = Segment(bytes, 0xC0);
        bytes[sof + 5] = bytes[sof + 6] = bytes[sof + 7] = bytes[sof + 8] = 0xFF; // height, width = 65535
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(bytes, "huge.jpg"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "refused before allocating");
        Assert.StartsWith("huge.jpg: JPEG data is truncated or the frame header is corrupt: 65535 x 65535 needs", e.Message);
    }

    /// <summary>Offset of the first marker segment of type <paramref name="marker"/> (at its 0xFF byte).</summary>
    private static int Segment(byte[] jpeg, int marker)
    {
        int pos = 2;
        while (jpeg[pos + 1] != marker) pos += 2 + (jpeg[pos + 2] << 8 | jpeg[pos + 3]);
        return pos;
    }
}
