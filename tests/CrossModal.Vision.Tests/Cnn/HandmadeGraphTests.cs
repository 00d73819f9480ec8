using CrossModal.Vision.Cnn;
using CrossModal.Vision.Onnx;
using CrossModal.Vision.Tests.Onnx;
using P = CrossModal.Vision.Tests.Onnx.ProtoBuilder;

namespace CrossModal.Vision.Tests.Cnn;

/// <summary>
/// Graphs built in the test: unsupported operators and attributes are refused by name when the runtime is created
/// (before any run), and small cases are checked against hand-computed values.
/// </summary>
public class HandmadeGraphTests
{
    private static OnnxModel Build(long opset, params P[] nodes) => OnnxModel.Parse(P.Model(opset, nodes,
        new[] { P.FloatTensor("w", new[] { 2, 1, 1, 1 }, new float[] { 1, 2 }) },
        new[] { P.ValueInfo("x", 1, 1, 4, 4) }, new[] { P.ValueInfo("y", 1, 2, 4, 4) }), "handmade.onnx");

    [Fact]
    public void Should_RefuseUnknownOperator_NamingIt()
    {
        var model = Build(13, P.Node("Conv", new[] { "x", "w" }, new[] { "c" }), P.Node("LeakyRelu", new[] { "c" }, new[] { "y" }));
        var e = Assert.Throws<NotSupportedException>(() => CnnRuntime.Create(model));
        Assert.Contains("handmade.onnx", e.Message);
        Assert.Contains("LeakyRelu", e.Message);
    }

    [Fact]
    public void Should_RefuseUnknownAttribute_NamingIt()
    {
        var model = Build(13, P.Node("Conv", new[] { "x", "w" }, new[] { "y" }, P.IntAttribute("frobnicate", 1)));
        var e = Assert.Throws<NotSupportedException>(() => CnnRuntime.Create(model));
        Assert.Contains("frobnicate", e.Message);
        Assert.Contains("Conv", e.Message);
    }

    [Fact]
    public void Should_ListEveryUnsupportedNode_AtOnce()
    {
        var model = Build(13, P.Node("Sigmoid", new[] { "x" }, new[] { "a" }), P.Node("Tanh", new[] { "a" }, new[] { "y" }));
        var e = Assert.Throws<NotSupportedException>(() => CnnRuntime.Create(model));
        Assert.Contains("Sigmoid", e.Message);
        Assert.Contains("Tanh", e.Message);
    }

    [Fact]
    public void Should_RunAHandmadeGraph_WithHandComputedResult()
    {
        // 1x1 convolution with weights [1, 2] doubles the second channel: y[0] = x, y[1] = 2x; then Relu.
        var model = Build(13, P.Node("Conv", new[] { "x", "w" }, new[] { "c" }), P.Node("Relu", new[] { "c" }, new[] { "y" }));
        var runtime = CnnRuntime.Create(model);
        var x = CrossModal.Tensors.Tensor.FromArray(Enumerable.Range(-8, 16).Select(v => (float)v).ToArray(), 1, 1, 4, 4);
        var y = runtime.Run(x, "y", TestContext.Current.CancellationToken);
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(Math.Max(i - 8, 0), y[i]);
            Assert.Equal(Math.Max(2 * (i - 8), 0), y[16 + i]);
        }
    }

    [Theory]
    [InlineData(1, new float[] { 0.25f, 1.25f, 2.75f, 7f })]
    [InlineData(0, new float[] { 1f, 2.5f, 5.5f, 7f })]
    public void Should_AveragePool_CountingPaddingOrNot(long countIncludePad, float[] expected)
    {
        // x = 1..9 in a 3 x 3 plane; 2 x 2 windows, stride 2, one pixel of padding all round -> 2 x 2 output.
        // Window (0, 0) sees only x=1 (4 cells with padding), (0, 1) sees 2+3, (1, 0) sees 4+7, (1, 1) 5+6+8+9.
        var model = OnnxModel.Parse(P.Model(11,
            new[] { P.Node("AveragePool", new[] { "x" }, new[] { "y" }, P.IntsAttribute("kernel_shape", 2, 2), P.IntsAttribute("strides", 2, 2),
                P.IntsAttribute("pads", 1, 1, 1, 1), P.IntAttribute("count_include_pad", countIncludePad)) },
            System.Array.Empty<P>(), new[] { P.ValueInfo("x", 1, 1, 3, 3) }, new[] { P.ValueInfo("y", 1, 1, 2, 2) }), "avgpool.onnx");
        var x = CrossModal.Tensors.Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 1, 1, 3, 3);
        var y = CnnRuntime.Create(model).Run(x, "y", TestContext.Current.CancellationToken);
        Assert.Equal(new[] { 1, 1, 2, 2 }, y.Shape);
        Assert.Equal(expected, y.ToArray());
    }
}
