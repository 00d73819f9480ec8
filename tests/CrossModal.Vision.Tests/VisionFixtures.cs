using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using CrossModal.Tests;

namespace CrossModal.Vision.Tests;

/// <summary>Reads the committed fixtures under tests/fixtures/vision (made once by make_fixtures.py).</summary>
internal static class VisionFixtures
{
    public static string Path(params string[] parts) => TestData.Fixture(new[] { "vision" }.Concat(parts).ToArray());

    /// <summary>The entries of area/expected.json (name -> object).</summary>
    public static Dictionary<string, JsonElement> Manifest(string area)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path(area, "expected.json")));
        return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
    }

    /// <summary>The names in area/expected.json as theory data.</summary>
    public static TheoryData<string> Names(string area)
    {
        var data = new TheoryData<string>();
        foreach (var name in Manifest(area).Keys.OrderBy(n => n, StringComparer.Ordinal)) data.Add(name);
        return data;
    }

    /// <summary>A gzip-compressed raw byte fixture.</summary>
    public static byte[] ReadGz(string path)
    {
        using var fs = File.OpenRead(path);
        using var gz = new GZipStream(fs, CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    public static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant();

    /// <summary>Asserts byte equality of two RGB images, reporting the largest difference and where it is.</summary>
    public static void AssertSamePixels(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, int width, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int maxDiff = 0, at = -1, count = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            int d = Math.Abs(expected[i] - actual[i]);
            if (d > 0) count++;
            if (d > maxDiff) { maxDiff = d; at = i; }
        }
        Assert.True(maxDiff == 0,
            $"{what}: {count} of {expected.Length} bytes differ, max |diff| {maxDiff} at pixel ({at / 3 % width}, {at / 3 / width}) channel {at % 3}: expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)}.");
    }
}
