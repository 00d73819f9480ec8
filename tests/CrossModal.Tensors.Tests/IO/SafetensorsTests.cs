using CrossModal.Tests;
using System.Buffers.Binary;
using System.Text;
using CrossModal.Tensors.IO;

namespace CrossModal.Tensors.Tests;

/// <summary>Safetensors against byte layouts built by hand from the format's definition.</summary>
public class SafetensorsTests
{
    private static byte[] Build(string header, params byte[][] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var file = new List<byte>();
        var len = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)h.Length);
        file.AddRange(len);
        file.AddRange(h);
        foreach (var d in data) file.AddRange(d);
        return file.ToArray();
    }

    private static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void Should_ParseAHandBuiltFile()
    {
        // Data: a = [1.5, -2] as F16 at 0..4, 4 bytes of padding unused, b = [3, 4] at 8..16, c = 42 at 16..24.
        var bytes = Build("{\"__metadata__\":{\"k\":\"v\"},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},\"a\":{\"dtype\":\"F16\",\"shape\":[2,1],\"data_offsets\":[0,4]},\"c\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]}}",
            BitConverter.GetBytes((Half)1.5f), BitConverter.GetBytes((Half)(-2f)), new byte[4], Floats(3f, 4f), BitConverter.GetBytes(42L));
        var f = Safetensors.Parse(bytes, "hand.safetensors");
        Assert.Equal("v", f.Metadata["k"]);
        Assert.Equal(new[] { 1.5f, -2f }, f.Get("a").ToArray());
        Assert.Equal(new[] { 2, 1 }, f.Get("a").Shape);
        Assert.Equal(new[] { 3f, 4f }, f.Get("b").ToArray());
        Assert.Equal(42f, f.Get("c").ToScalar());
        Assert.Equal("I64", f.DTypes["c"]);
        Assert.Equal(new[] { "b", "a", "c" }, f.Order);
    }

    [Fact]
    public void Should_WriteWhatTheFormatDefines()
    {
        using var temp = new TempFolder();
        var path = temp.File("st.safetensors");
        Safetensors.Write(path, new[] { ("w", Tensor.FromArray(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3)), ("n", Tensor.Scalar(7f)) },
            new Dictionary<string, string> { ["format"] = "x" }, new HashSet<string> { "n" });
        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + n) % 8); // header padded so the data is 8-byte aligned
        var header = System.Text.Json.JsonDocument.Parse(bytes.AsMemory(8, (int)n)).RootElement;
        Assert.Equal("x", header.GetProperty("__metadata__").GetProperty("format").GetString());
        var w = header.GetProperty("w");
        Assert.Equal("F32", w.GetProperty("dtype").GetString());
        Assert.Equal(new[] { 2, 3 }, w.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        int begin = w.GetProperty("data_offsets")[0].GetInt32();
        Assert.Equal(4f, BitConverter.ToSingle(bytes, 8 + (int)n + begin + 12));
        var nn = header.GetProperty("n");
        Assert.Equal("I64", nn.GetProperty("dtype").GetString());
        Assert.Equal(7L, BitConverter.ToInt64(bytes, 8 + (int)n + nn.GetProperty("data_offsets")[0].GetInt32()));
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", "needs 8")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,80]}}", "outside")]
    [InlineData("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", "unsupported dtype 'Q7'")]
    [InlineData("{\"a\":{\"shape\":[2]}}", "needs 'dtype'")]
    [InlineData("not json", "not valid JSON")]
    public void Should_ExplainMalformedFiles(string header, string problem)
    {
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Parse(Build(header, new byte[16]), "bad.safetensors"));
        Assert.Contains("bad.safetensors", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Should_ReportTruncatedHeaders()
    {
        var bytes = Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Parse(bytes[..20], "cut.safetensors"));
        Assert.Contains("truncated", e.Message);
    }

    // Found by the fuzz runner (issue 20): JsonDocument checks a string's bytes only when it is read, so invalid UTF-8
    // or an escaped lone surrogate in a name or a metadata value threw InvalidOperationException.
    [Theory]
    [InlineData("metadata value", "{\"__metadata__\":{\"k\":\"a\u00ffb\"}}", true)]
    [InlineData("metadata value", "{\"__metadata__\":{\"k\":\"\\ud800\"}}", false)]
    [InlineData("tensor name", "{\"x\u00ff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", true)]
    [InlineData("dtype", "{\"x\":{\"dtype\":\"\\udc00\",\"shape\":[1],\"data_offsets\":[0,4]}}", false)]
    public void Should_NameTheFile_WhenAHeaderStringIsNotValidText(string where, string header, bool rawByte)
    {
        var bytes = Build(header, new byte[4]);
        if (rawByte)
        {
            // Replace the UTF-8 encoding of U+00FF (C3 BF) by a lone 0xFF byte: invalid UTF-8.
            int at = bytes.AsSpan().IndexOf((byte)0xC3);
            bytes = [.. bytes[..at], 0xFF, .. bytes[(at + 2)..]];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, BinaryPrimitives.ReadUInt64LittleEndian(bytes) - 1);
        }
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Parse(bytes, "bad-text.safetensors"));
        Assert.StartsWith("bad-text.safetensors: ", e.Message);
        Assert.Contains("not valid text", e.Message);
        Assert.NotEmpty(where);
    }
}
