using System.Globalization;
using System.Text.Json;
using CrossModal.Data;
using CrossModal.Models.Vsrn;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Models.Tests.Vsrn;

/// <summary>
/// The VSRN parity fixtures (tests/fixtures/vsrn, written by tools/reference/vsrn_fixtures.py from the original
/// code): the batch, a model built with the fixture's options and loaded (strictly) with its weights, and the
/// tolerance every comparison uses: |ours − torch| ≤ 1e-4 · (|torch| + 0.01 · max|torch|) per element, i.e. 1e-4
/// relative, elements far below the tensor's scale compared at 1e-6 of that scale.
/// </summary>
internal sealed class VsrnFixture
{
    private VsrnFixture(string variant)
    {
        Inputs = Safetensors.Read(TestData.Fixture("vsrn", "inputs.safetensors"));
        Expected = Safetensors.Read(TestData.Fixture("vsrn", variant + ".safetensors"));
        using var opt = JsonDocument.Parse(Inputs.Metadata["opt"]);
        var o = opt.RootElement;
        string dataName = Expected.Metadata["data_name"];
        float p = float.Parse(Expected.Metadata["input_dropout_p"], CultureInfo.InvariantCulture);
        Config = new VsrnConfig
        {
            DataName = dataName,
            ImgDim = o.GetProperty("img_dim").GetInt32(),
            EmbedSize = o.GetProperty("embed_size").GetInt32(),
            WordDim = o.GetProperty("word_dim").GetInt32(),
            VocabSize = o.GetProperty("vocab_size").GetInt32(),
            MaxLen = o.GetProperty("max_len").GetInt32(),
            DimHidden = o.GetProperty("dim_hidden").GetInt32(),
            DimWord = o.GetProperty("dim_word").GetInt32(),
            InputDropoutP = p,
        };
        Margin = (float)o.GetProperty("margin").GetDouble();
        var lengths = Inputs.Get("lengths").ToArray().Select(v => (int)v).ToArray();
        var captions = Inputs.Get("captions");
        Lengths = lengths;
        MaxLength = captions.Dim(1);
        Tokens = captions.ToArray().Select(v => (int)v).ToArray();
    }

    /// <summary>f30k_precomp, coco_precomp (weights with dropout 0) or dropout (coco weights, p = 0.2, masks given).</summary>
    public static VsrnFixture Load(string variant) => new(variant);

    public SafetensorsFile Inputs { get; }

    public SafetensorsFile Expected { get; }

    public VsrnConfig Config { get; }

    public float Margin { get; }

    public int[] Tokens { get; }

    public int[] Lengths { get; }

    public int MaxLength { get; }

    /// <summary>The images [5, 6, 16] (a fresh copy).</summary>
    public Tensor Images() => Inputs.Get("images").Clone();

    /// <summary>The fixture's batch as the trainer hands it over (already sorted by length).</summary>
    public Batch Batch()
    {
        var rows = Enumerable.Range(0, Lengths.Length).ToArray();
        return new Batch(rows, rows, Images(), Tokens, Lengths, MaxLength);
    }

    /// <summary>A model with the fixture's weights (<paramref name="weights"/>: the variant whose param.* to load).</summary>
    public VsrnModel Model(SafetensorsFile? weights = null)
    {
        var model = new VsrnModel(Config, new Rng(0));
        var state = (weights ?? Expected).Tensors.Where(kv => kv.Key.StartsWith("param.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["param.".Length..], kv => kv.Value);
        model.LoadStateDict(state);
        return model;
    }

    /// <summary>
    /// Asserts ‖ours − torch‖₂ ≤ 1e-4 ‖torch‖₂ and, element by element, |ours − torch| ≤ 1e-3 (|torch| + 0.01 max|torch|);
    /// returns the norm-wise relative error and the largest element-wise one.
    /// </summary>
    public static (double Norm, double Element) AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, torch has {expected.Length}");
        double scale = 0, diff2 = 0, ref2 = 0, worst = 0;
        foreach (float v in expected) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            diff2 += d * d;
            ref2 += (double)expected[i] * expected[i];
            double denominator = Math.Abs(expected[i]) + 0.01 * scale;
            if (denominator > 0) worst = Math.Max(worst, Math.Abs(d) / denominator);
            Assert.True(Math.Abs(d) <= ElementTolerance * denominator, $"{what}[{i}]: ours {actual[i]:G7}, torch {expected[i]:G7}");
        }
        double norm = ref2 > 0 ? Math.Sqrt(diff2 / ref2) : Math.Sqrt(diff2);
        Assert.True(norm <= NormTolerance, $"{what}: norm-wise relative error {norm:E2} (tolerance {NormTolerance:E0})");
        return (norm, worst);
    }

    /// <summary>The norm-wise relative tolerance.</summary>
    public const double NormTolerance = 1e-4;

    /// <summary>The element-wise tolerance (relative, with a floor of 1% of the tensor's largest element).</summary>
    public const double ElementTolerance = 1e-3;
}
