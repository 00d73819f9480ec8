using CrossModal.Tests;
using CrossModal.Vision.Imaging;

namespace CrossModal.Vision.Tests.Imaging;

/// <summary>
/// PNG decoding against sample arrays written by make_fixtures.py's own PNG writer (every colour type, bit depth,
/// row filter, plain and Adam7) and mapped to 8-bit RGB by numpy; Pillow agrees except for 16-bit grayscale
/// (documented). Tolerance: none.
/// </summary>
public class PngDecoderTests
{
    public static TheoryData<string> Files() => VisionFixtures.Names("png");

    [Theory]
    [MemberData(nameof(Files))]
    public void Should_DecodeEveryColourTypeAndDepth_ExactlyToTheSamples(string name)
    {
        var entry = VisionFixtures.Manifest("png")[name];
        var image = ImageDecoder.Decode(VisionFixtures.Path("png", name));
        Assert.Equal(entry.GetProperty("width").GetInt32(), image.Width);
        Assert.Equal(entry.GetProperty("height").GetInt32(), image.Height);
        var expected = VisionFixtures.ReadGz(VisionFixtures.Path("png", Path.ChangeExtension(name, ".rgb.gz")));
        VisionFixtures.AssertSamePixels(expected, image.Pixels, image.Width, name);
    }

    [Fact]
    public void Should_DecodeFishPng_ToTheTensorMicrosoftPublished()
    {
        // fish.csv is the same picture as fish.png, as B, G, R planes of 224 x 224 values.
        var image = ImageDecoder.Decode(TestData.Path("squeezenet", "fish.png"));
        var csv = File.ReadAllText(TestData.Path("squeezenet", "fish.csv")).Split(',').Select(int.Parse).ToArray();
        Assert.Equal(224, image.Width);
        Assert.Equal(224, image.Height);
        int plane = 224 * 224;
        for (int i = 0; i < plane; i++)
        {
            Assert.Equal(csv[i], image.Pixels[3 * i + 2]);
            Assert.Equal(csv[plane + i], image.Pixels[3 * i + 1]);
            Assert.Equal(csv[2 * plane + i], image.Pixels[3 * i]);
        }
    }

    [Fact]
    public void Should_RejectCorruptChunkCrc_NamingFileAndChunk()
    {
        var bytes = File.ReadAllBytes(VisionFixtures.Path("png", "rgb8.png"));
        bytes[16] ^= 0x01; // inside IHDR's width
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(bytes, "broken.png"));
        Assert.StartsWith("broken.png:", e.Message);
        Assert.Contains("IHDR", e.Message);
    }

    [Fact]
    public void Should_ReportTruncatedPng()
    {
        var bytes = File.ReadAllBytes(VisionFixtures.Path("png", "rgba16.png"));
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(bytes.AsSpan(0, bytes.Length / 2), "half.png"));
        Assert.StartsWith("half.png:", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    // Found by the fuzz runner (issue 20): an IHDR claiming 16384 x 16384 pixels (with a valid CRC) made the decoder
    // allocate 1.3 GB for a 600-byte file before inflating anything. Deflate expands at most 1032:1.
    [Fact]
    public void Should_RefuseMorePixelsThanTheImageDataCanHold_BeforeAllocating()
    {
        var bytes = File.ReadAllBytes(VisionFixtures.Path("png", "rgb8.png"));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), 16384); // IHDR width
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), 16384); // IHDR height
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), CrossModal.Tensors.IO.Crc32.Compute(bytes.AsSpan(12, 17)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(bytes, "huge.png"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "refused before allocating");
        Assert.StartsWith("huge.png: PNG data is truncated: a 16384 x 16384 image needs", e.Message);
    }
}
