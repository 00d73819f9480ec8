using CrossModal.Tensors;
using CrossModal.Tests;
using CrossModal.Vision.Cnn;

namespace CrossModal.Vision.Tests.Cnn;

/// <summary>SqueezeNet 1.1 against Microsoft's published output for fish.csv (their own tolerance is 0.06 for fp16).</summary>
public class SqueezeNetTests
{
    private static readonly Lazy<float[]> Fish = new(() =>
        File.ReadAllText(TestData.Path("squeezenet", "fish.csv")).Split(',').Select(float.Parse).ToArray());

    private static float[] Reference() =>
        File.ReadAllLines(TestData.Path("squeezenet", "Squeezenet_fp16_fish_input_CPU.csv")).Skip(1)
            .Select(l => float.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    [Theory]
    [InlineData("SqueezeNet_fp16.onnx")]
    [InlineData("squeezenet11_fp32_from_fp16.onnx")]
    public void Should_MatchMicrosoftReference_OnFish_Within1e3(string file)
    {
        var runtime = CnnRuntime.Load(TestData.Path("squeezenet", file));
        var output = runtime.Run(Tensor.FromArray(Fish.Value, 1, 3, 224, 224), "softmaxout_1", TestContext.Current.CancellationToken);
        Assert.Equal(new[] { 1, 1000, 1, 1 }, output.Shape);
        var expected = Reference();
        Assert.Equal(1000, expected.Length);
        double maxDiff = 0;
        for (int i = 0; i < 1000; i++) maxDiff = Math.Max(maxDiff, Math.Abs(output[i] - expected[i]));
        // Measured: 1.2e-4 (float32 arithmetic on the fp16 weights; the reference was computed in fp16).
        Assert.True(maxDiff <= 1e-3, $"max |diff| {maxDiff:E3}");
        Assert.Equal(0, Enumerable.Range(0, 1000).MaxBy(i => output[i])); // 'tench'
    }

    [Fact]
    public void Should_ReturnIntermediateValues_AndAgreeAcrossBatchAndFusion()
    {
        var runtime = CnnRuntime.Load(TestData.Path("squeezenet", "SqueezeNet_fp16.onnx"));
        var fish = Fish.Value;
        var batch = new float[fish.Length * 3];
        for (int b = 0; b < 3; b++) fish.CopyTo(batch, b * fish.Length);
        // conv1_1 is Conv's own output (so that Conv cannot fold its Relu), conv1_2 the Relu after it.
        var values = runtime.Run(new Dictionary<string, Tensor> { ["data_0"] = Tensor.FromArray(batch, 3, 3, 224, 224) },
            new[] { "conv1_1", "conv1_2", "fire9/concat_1", "softmaxout_1" }, TestContext.Current.CancellationToken);
        Assert.Equal(new[] { 3, 64, 111, 111 }, values["conv1_1"].Shape);
        Assert.Equal(new[] { 3, 512, 13, 13 }, values["fire9/concat_1"].Shape);
        var pre = values["conv1_1"].Data;
        var post = values["conv1_2"].Data;
        for (int i = 0; i < pre.Length; i++) Assert.Equal(Math.Max(pre[i], 0f), post[i]);

        // A plan that requests only the fused path gives the same numbers, and every image of the batch the same.
        var alone = runtime.Run(Tensor.FromArray(fish, 1, 3, 224, 224), "fire9/concat_1", TestContext.Current.CancellationToken);
        int size = 512 * 13 * 13;
        for (int b = 0; b < 3; b++)
            Assert.True(alone.Data.SequenceEqual(values["fire9/concat_1"].Data.Slice(b * size, size)), $"image {b} differs");
    }

    [Fact]
    public void Should_ConcatenateChannels_WhetherOrNotTheConvsWriteInPlace()
    {
        // Requesting only the concatenation lets the expand convolutions write straight into it; requesting an
        // expand output as well forces the ordinary Concat. Both must give the channel-wise concatenation.
        var runtime = CnnRuntime.Load(TestData.Path("squeezenet", "SqueezeNet_fp16.onnx"));
        var input = Tensor.FromArray(Fish.Value, 1, 3, 224, 224);
        var ct = TestContext.Current.CancellationToken;
        var inPlace = runtime.Run(input, "fire2/concat_1", ct);
        var parts = runtime.Run(new Dictionary<string, Tensor> { ["data_0"] = input }, new[] { "fire2/expand1x1_2", "fire2/expand3x3_2", "fire2/concat_1" }, ct);
        Assert.Equal(new[] { 1, 128, 55, 55 }, inPlace.Shape);
        Assert.True(inPlace.Data.SequenceEqual(parts["fire2/concat_1"].Data));
        int half = 64 * 55 * 55;
        Assert.True(parts["fire2/expand1x1_2"].Data.SequenceEqual(inPlace.Data[..half]));
        Assert.True(parts["fire2/expand3x3_2"].Data.SequenceEqual(inPlace.Data[half..]));
    }

    [Fact]
    public void Should_SuggestNames_WhenARequestedValueDoesNotExist()
    {
        var runtime = CnnRuntime.Load(TestData.Path("squeezenet", "SqueezeNet_fp16.onnx"));
        var e = Assert.Throws<ArgumentException>(() => runtime.Run(Tensor.Zeros(1, 3, 32, 32), "fire9/concat", TestContext.Current.CancellationToken));
        Assert.Contains("fire9/concat_1", e.Message);
        var wrongChannels = Assert.Throws<ArgumentException>(() => runtime.Run(Tensor.Zeros(1, 4, 32, 32), "conv1_2", TestContext.Current.CancellationToken));
        Assert.Contains("channels", wrongChannels.Message);
    }
}
