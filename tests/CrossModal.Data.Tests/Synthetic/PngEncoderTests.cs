using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using CrossModal.Data.Synthetic;
using CrossModal.Tensors.IO;

namespace CrossModal.Data.Tests.Synthetic;

/// <summary>The PNG writer against the PNG specification: chunk layout and CRCs, filters, pixels.</summary>
public sealed class PngEncoderTests
{
    [Fact]
    public void Should_WriteChunksThatDecodeToThePixels()
    {
        int w = 5, h = 4;
        var rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 37 + 11);
        var png = PngEncoder.Encode(rgb, w, h);

        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var chunks = new List<(string Type, byte[] Data)>();
        int p = 8;
        while (p < png.Length)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(p));
            var typeAndData = png.AsSpan(p + 4, 4 + len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(p + 8 + len));
            Assert.Equal(Crc32.Compute(typeAndData), crc);
            chunks.Add((Encoding.ASCII.GetString(typeAndData[..4]), typeAndData[4..].ToArray()));
            p += 12 + len;
        }
        Assert.Equal(new[] { "IHDR", "IDAT", "IEND" }, chunks.Select(c => c.Type));
        var ihdr = chunks[0].Data;
        Assert.Equal(w, BinaryPrimitives.ReadInt32BigEndian(ihdr));
        Assert.Equal(h, BinaryPrimitives.ReadInt32BigEndian(ihdr.AsSpan(4)));
        Assert.Equal(new byte[] { 8, 2, 0, 0, 0 }, ihdr[8..]);

        // Inflate and undo the filters as a PNG decoder does (types 0 None and 2 Up are used).
        using var z = new ZLibStream(new MemoryStream(chunks[1].Data), CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        var bytes = raw.ToArray();
        Assert.Equal(h * (1 + w * 3), bytes.Length);
        var decoded = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            byte filter = bytes[y * (1 + w * 3)];
            for (int x = 0; x < w * 3; x++)
            {
                byte v = bytes[y * (1 + w * 3) + 1 + x];
                byte up = y > 0 ? decoded[(y - 1) * w * 3 + x] : (byte)0;
                decoded[y * w * 3 + x] = filter switch { 0 => v, 2 => (byte)(v + up), _ => throw new InvalidDataException($"filter {filter}") };
            }
        }
        Assert.Equal(rgb, decoded);
    }

    [Fact]
    public void Should_DrawObjectsInTheirColourOnTheBackground()
    {
        // A large red circle in the centre cell of a gray scene: centre pixel red, corner gray.
        var scene = new Scene("s", Background: 0, [new SceneObject(Color: 0, Shape: 0, Size: 2, Cell: 4, 0f, 0f)], null, null);
        var rgb = SceneRenderer.Render(scene, 96);
        Assert.Equal(new byte[] { 220, 40, 40 }, rgb.AsSpan((48 * 96 + 48) * 3, 3).ToArray());
        Assert.Equal(new byte[] { 170, 170, 170 }, rgb.AsSpan(0, 3).ToArray());
        // Radius 0.38 cell = 12.2 px: 11 px right of the centre is inside, 14 px is outside.
        Assert.Equal(new byte[] { 220, 40, 40 }, rgb.AsSpan((48 * 96 + 59) * 3, 3).ToArray());
        Assert.Equal(new byte[] { 170, 170, 170 }, rgb.AsSpan((48 * 96 + 62) * 3, 3).ToArray());
    }
}
