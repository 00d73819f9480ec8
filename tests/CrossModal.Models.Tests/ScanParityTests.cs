using CrossModal.Models.Attention;
using CrossModal.Models.Scan;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Models.Tests;

/// <summary>
/// SCAN scores and gradients against PyTorch (tools/reference/scan_fixtures.py: the original's batched ops with
/// explicit attended vectors). Tolerance: |ours - torch| ≤ 1e-4 · (|torch| + 0.01 · max|torch|) per element,
/// i.e. 1e-4 relative, with elements far below the array's scale compared at 1e-6 of that scale.
/// </summary>
public class ScanParityTests
{
    public static TheoryData<string, string, string> Settings()
    {
        var d = new TheoryData<string, string, string>();
        foreach (var dir in new[] { "t2i", "i2t" })
            foreach (var norm in new[] { "clipped_l2norm", "l2norm", "softmax", "clipped", "no_norm" })
                foreach (var agg in new[] { "LogSumExp", "Mean", "Max", "Sum" })
                    d.Add(dir, norm, agg);
        return d;
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void Should_MatchPyTorch_ScoresAndGradients(string direction, string norm, string agg)
    {
        var inputs = Safetensors.Read(TestData.Fixture("scan", "inputs.safetensors"));
        var expected = Safetensors.Read(TestData.Fixture("scan", $"{direction}_{norm}_{agg}.safetensors"));
        var config = new ScanConfig
        {
            VocabSize = 10,
            CrossAttn = FlagValues.Parse<AttentionDirection>(direction, "cross_attn"),
            RawFeatureNorm = FlagValues.Parse<RawFeatureNorm>(norm, "raw_feature_norm"),
            AggFunc = FlagValues.Parse<Aggregation>(agg, "agg_func"),
            LambdaSoftmax = float.Parse(expected.Metadata["lambda_softmax"], System.Globalization.CultureInfo.InvariantCulture),
            LambdaLse = float.Parse(expected.Metadata["lambda_lse"], System.Globalization.CultureInfo.InvariantCulture),
        };
        var images = inputs.Get("images").Clone();
        var captions = inputs.Get("captions").Clone();
        images.RequiresGrad = true;
        captions.RequiresGrad = true;
        var lengths = inputs.Get("lengths").ToArray().Select(v => (int)v).ToArray();

        var scores = CrossAttention.Scores(images, captions, lengths, CrossAttentionOptions.From(config));
        Tape.Backward(scores, inputs.Get("upstream"));

        AssertClose(expected.Get("scores").ToArray(), scores.ToArray(), "scores");
        AssertClose(expected.Get("d_images").ToArray(), images.Grad!.ToArray(), "d_images");
        AssertClose(expected.Get("d_captions").ToArray(), captions.Grad!.ToArray(), "d_captions");
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = 1e-4 * (Math.Abs(expected[i]) + 0.01 * scale);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: ours {actual[i]:G7}, torch {expected[i]:G7}");
        }
    }
}
