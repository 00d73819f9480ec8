using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Tensors.Tests;

/// <summary>.npy against files written by NumPy 1.24 (tools/reference/npy_fixtures.py).</summary>
public class NpyTests
{
    private static string F(string name) => TestData.Fixture("io", name);

    private static float Expected(int i) => (i - 5.5f) / 3f; // (np.arange(24) - 5.5) / 3 in float32

    [Theory]
    [InlineData("f4_v1.npy")]
    [InlineData("f4_v2.npy")]
    [InlineData("f4_v3.npy")]
    public void Should_ReadEveryFormatVersion(string name)
    {
        var t = Npy.ReadFloat32(F(name));
        Assert.Equal(new[] { 2, 3, 4 }, t.Shape);
        for (int i = 0; i < 24; i++) Assert.Equal(Expected(i), t[i]);
    }

    [Fact]
    public void Should_ConvertDoublesAndIntegers()
    {
        var (d, shape) = Npy.ReadFloat64(F("f8.npy"));
        Assert.Equal(new[] { 2, 3, 4 }, shape);
        Assert.Equal((double)Expected(7) / 7, d[7], 15);
        var (i4, s4) = Npy.ReadInt64(F("i4.npy"));
        Assert.Equal(new[] { 2, 3 }, s4);
        Assert.Equal(new long[] { 1, -2, 3, 4, 5, -6 }, i4);
        var (i8, _) = Npy.ReadInt64(F("i8.npy"));
        Assert.Equal(new long[] { 7, -8, 1L << 40 }, i8);
        Assert.Equal(-6f, Npy.ReadFloat32(F("i4.npy"))[5]);
    }

    [Fact]
    public void Should_ReadScalarsVectorsAndEmptyArrays()
    {
        var s = Npy.ReadFloat32(F("scalar.npy"));
        Assert.Equal(0, s.Rank);
        Assert.Equal(2.5f, s.ToScalar());
        Assert.Equal(new[] { 3 }, Npy.ReadFloat32(F("vector.npy")).Shape);
        var e = Npy.ReadFloat32(F("empty.npy"));
        Assert.Equal(new[] { 0, 5 }, e.Shape);
        Assert.Equal(0, e.Length);
    }

    [Fact]
    public void Should_WriteTheSameBytesAsNumPy()
    {
        var t = Npy.ReadFloat32(F("f4_v1.npy"));
        using var temp = new TempFolder();
        var path = temp.File("t.npy");
        Npy.Write(path, t);
        Assert.Equal(File.ReadAllBytes(F("f4_v1.npy")), File.ReadAllBytes(path));
        Npy.Write(path, new[] { 1f, 2f, 3f }, new[] { 3 });
        Assert.Equal(File.ReadAllBytes(F("vector.npy")), File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData("fortran.npy", "Fortran-order")]
    [InlineData("bigendian.npy", "'>f4'")]
    [InlineData("complex.npy", "'<c8'")]
    public void Should_RefuseUnsupportedLayouts_NamingTheFile(string name, string problem)
    {
        var e = Assert.Throws<InvalidDataException>(() => Npy.ReadFloat32(F(name)));
        Assert.Contains(F(name), e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Should_ReportTruncationAndBadHeaders()
    {
        using var temp = new TempFolder();
        var dir = temp.Path;
        var bytes = File.ReadAllBytes(F("f4_v1.npy"));
        string truncated = Path.Combine(dir, "truncated.npy");
        File.WriteAllBytes(truncated, bytes[..^8]);
        var e = Assert.Throws<InvalidDataException>(() => Npy.ReadFloat32(truncated));
        Assert.Contains(truncated, e.Message);
        Assert.Contains("needs 96 bytes, the file holds 88", e.Message);
        Assert.Throws<InvalidDataException>(() => NpyMapped.Open(truncated));

        string header = Path.Combine(dir, "header.npy");
        var broken = (byte[])bytes.Clone();
        System.Text.Encoding.ASCII.GetBytes("'shapo'").CopyTo(broken, 50);
        File.WriteAllBytes(header, broken);
        Assert.Contains("does not parse", Assert.Throws<InvalidDataException>(() => Npy.ReadFloat32(header)).Message);

        string notNpy = Path.Combine(dir, "text.npy");
        File.WriteAllText(notNpy, "hello");
        Assert.Contains("not a .npy file", Assert.Throws<InvalidDataException>(() => Npy.ReadFloat32(notNpy)).Message);
    }

    [Fact]
    public void Should_MapRowsWithoutReadingTheFile()
    {
        using var m = NpyMapped.Open(F("f4_v1.npy"));
        Assert.Equal(2, m.Rows);
        Assert.Equal(12, m.RowLength);
        Assert.Equal(Expected(12), m.Row(1)[0]);
        Assert.Equal(Expected(23), m.All[23]);
        Assert.Contains("float32", Assert.Throws<InvalidDataException>(() => NpyMapped.Open(F("f8.npy"))).Message);
    }

    // Found by review while writing the fuzz runner (issue 20): the element count of a shape like
    // (2147483647, 2147483647, 2147483647, 8) wrapped around in 64 bits, so the size check passed and the reader
    // asked for an array of a negative or absurd length.
    [Fact]
    public void Should_RefuseAShapeWhoseElementCountOverflows()
    {
        using var dir = new TempFolder();
        var header = NpyHeader.Build("<f4", [1]);
        string text = System.Text.Encoding.Latin1.GetString(header, 10, header.Length - 10).Replace("(1,)", "(2147483647, 2147483647, 2147483647, 8)");
        var bytes = header[..8].Concat(BitConverter.GetBytes((ushort)text.Length)).Concat(System.Text.Encoding.Latin1.GetBytes(text)).Concat(new byte[64]).ToArray();
        string path = dir.File("huge.npy");
        File.WriteAllBytes(path, bytes);
        foreach (var read in new Action[] { () => Npy.ReadFloat32(path), () => NpyMapped.Open(path).Dispose() })
        {
            var e = Assert.Throws<InvalidDataException>(read);
            Assert.StartsWith(path + ": ", e.Message);
            Assert.Contains("more elements than any file can hold", e.Message);
        }
    }
}
