using CrossModal.Vision.Imaging;

namespace CrossModal.Vision.Tests.Imaging;

/// <summary>Resizing against Pillow 9.4's Image.resize(size, BILINEAR) (fixtures by make_fixtures.py). Tolerance: none.</summary>
public class ImageResizeTests
{
    public static TheoryData<string> Targets() => VisionFixtures.Names("resize");

    [Theory]
    [MemberData(nameof(Targets))]
    public void Should_MatchPillowBilinear_ByteForByte(string name)
    {
        var entry = VisionFixtures.Manifest("resize")[name];
        var source = ImageDecoder.Decode(VisionFixtures.Path("resize", "source_97x61.png"));
        int w = entry.GetProperty("width").GetInt32(), h = entry.GetProperty("height").GetInt32();
        var resized = ImageResize.Bilinear(source, w, h);
        Assert.Equal(w, resized.Width);
        Assert.Equal(h, resized.Height);
        if (entry.GetProperty("stored").GetBoolean())
            VisionFixtures.AssertSamePixels(VisionFixtures.ReadGz(VisionFixtures.Path("resize", name + ".rgb.gz")), resized.Pixels, w, name);
        Assert.Equal(entry.GetProperty("sha256").GetString(), VisionFixtures.Sha256(resized.Pixels));
    }

    [Fact]
    public void Should_ReturnTheSameImage_WhenTheSizeDoesNotChange()
    {
        var source = ImageDecoder.Decode(VisionFixtures.Path("resize", "source_97x61.png"));
        Assert.Same(source, ImageResize.Bilinear(source, 97, 61));
        Assert.Throws<ArgumentException>(() => ImageResize.Bilinear(source, 0, 5));
    }

    [Fact]
    public void Should_AverageEveryPixelUnderTheFootprint_WhenDownscaling()
    {
        // Hand-computed: a 4x1 row 0, 0, 255, 255 halved to 2x1. Scale 2 widens the triangle to support 2, so
        // output 0 (center 1.0) weighs pixels 0, 1, 2 as 0.75, 0.75, 0.25 (normalised by 1.75):
        // 255 * 0.25 / 1.75 = 36.43 -> 36; output 1 mirrors it: 255 * 1.5 / 1.75 = 218.57 -> 219.
        var row = new byte[] { 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255 };
        var image = new RgbImage(4, 1, row);
        var half = ImageResize.Bilinear(image, 2, 1);
        Assert.Equal((byte)36, half[0, 0].R);
        Assert.Equal((byte)219, half[1, 0].R);
    }
}
