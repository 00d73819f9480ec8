using System.Globalization;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Tensors.Tests.Parity;

/// <summary>
/// Loads the PyTorch reference fixtures written by tools/reference/engine_fixtures.py (tests/fixtures/engine) and
/// compares our float32 results with them. The tolerance is one per element:
/// |ours - torch| &lt;= 1e-5 * max(1, |torch|), i.e. 1e-5 relative for values above 1 and 1e-5 absolute below.
/// Each comparison reports the worst scaled difference |ours - torch| / max(1, |torch|) to the test output.
/// </summary>
internal static class Parity
{
    /// <summary>The scaled tolerance: |a - b| / max(1, |b|).</summary>
    public const double Tolerance = 1e-5;

    /// <summary>A <see cref="DirtyPool"/> scope when <paramref name="pooled"/>, else null (plain arrays).</summary>
    public static TensorScope? Scope(bool pooled) => pooled ? DirtyPool.Scope() : null;

    /// <summary>Reads tests/fixtures/engine/<paramref name="name"/>.safetensors.</summary>
    public static SafetensorsFile Load(string name) => Safetensors.Read(TestData.Fixture("engine", name + ".safetensors"));

    /// <summary>A metadata value.</summary>
    public static string Meta(this SafetensorsFile f, string key) =>
        f.Metadata.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"{f.Path}: no metadata '{key}'.");

    /// <summary>A metadata integer.</summary>
    public static int MetaInt(this SafetensorsFile f, string key) => int.Parse(f.Meta(key), CultureInfo.InvariantCulture);

    /// <summary>A metadata number.</summary>
    public static float MetaFloat(this SafetensorsFile f, string key) => float.Parse(f.Meta(key), CultureInfo.InvariantCulture);

    /// <summary>A metadata flag ("true"/"false").</summary>
    public static bool MetaBool(this SafetensorsFile f, string key) => bool.Parse(f.Meta(key));

    /// <summary>An integer tensor (stored as I64) as ints.</summary>
    public static int[] Ints(this SafetensorsFile f, string name)
    {
        var t = f.Get(name);
        Assert.Equal("I64", f.DTypes[name]);
        return t.ToArray().Select(v => (int)v).ToArray();
    }

    /// <summary>A fresh copy of a stored tensor that requires a gradient (a leaf of our tape).</summary>
    public static Tensor Input(this SafetensorsFile f, string name)
    {
        var src = f.Get(name);
        var t = Tensor.FromArray(src.ToArray(), src.Shape);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>Asserts that <paramref name="actual"/> matches the stored tensor <paramref name="name"/> in shape and values.</summary>
    public static double Close(this SafetensorsFile f, string name, Tensor? actual)
    {
        Assert.True(actual is not null, $"{Path.GetFileName(f.Path)}: no value computed for '{name}'.");
        var expected = f.Get(name);
        Assert.True(expected.ShapeSpan.SequenceEqual(actual!.ShapeSpan),
            $"{Path.GetFileName(f.Path)} '{name}': shape {Tensor.FormatShape(actual.ShapeSpan)}, PyTorch has {Tensor.FormatShape(expected.ShapeSpan)}.");
        return Close(f, name, expected.Data, actual.Data);
    }

    /// <summary>Asserts element-wise agreement of spans (same length).</summary>
    public static double Close(SafetensorsFile f, string name, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double b = expected[i], a = actual[i];
            double scaled = Math.Abs(a - b) / Math.Max(1.0, Math.Abs(b));
            if (!(scaled <= worst) || double.IsNaN(a))
            {
                worst = double.IsNaN(scaled) ? double.PositiveInfinity : scaled;
                worstAt = i;
            }
        }
        string file = Path.GetFileName(f.Path);
        if (worstAt >= 0)
        {
            Assert.True(worst <= Tolerance,
                $"{file} '{name}' element {worstAt}: ours {actual[worstAt]:R}, PyTorch {expected[worstAt]:R}, scaled difference {worst:G3} > {Tolerance:G3}.");
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{file} {name}: worst scaled difference {worst:G3} over {expected.Length} values");
        return worst;
    }
}
