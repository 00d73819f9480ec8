using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Vision.Cnn;

namespace CrossModal.Vision.Tests.Cnn;

/// <summary>
/// Small networks exported by torch.onnx (opsets 7, 9, 13) against PyTorch's own outputs (make_fixtures.py):
/// strided/dilated/grouped/depthwise Conv (2-D and 1-D), BatchNormalization, Relu, Clip (attribute and input
/// forms), ceil-mode MaxPool and AveragePool with and without counted padding, broadcasting Add/Mul, Concat,
/// GlobalAveragePool, Flatten, Gemm, MatMul (2-D and broadcast batched), Reshape and Softmax.
/// Tolerance: 1e-5 absolute + 1e-4 relative (float32 summation order).
/// </summary>
public class TorchExportTests
{
    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.Data;
        var a = actual.Data;
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5 + 1e-4 * Math.Abs(e[i]), $"{what}[{i}]: expected {e[i]}, got {a[i]}");
    }

    [Theory]
    [InlineData(9)]
    [InlineData(13)]
    public void Should_MatchPyTorch_OnNetWithEveryCnnOperator(int opset)
    {
        var runtime = CnnRuntime.Load(VisionFixtures.Path("onnx", $"net_opset{opset}.onnx"));
        var input = Npy.ReadFloat32(VisionFixtures.Path("onnx", "net_input.npy"));
        var outputs = runtime.Run(new Dictionary<string, Tensor> { ["input"] = input }, new[] { "probs", "hidden" }, TestContext.Current.CancellationToken);
        AssertClose(Npy.ReadFloat32(VisionFixtures.Path("onnx", "net_probs.npy")), outputs["probs"], "probs");
        AssertClose(Npy.ReadFloat32(VisionFixtures.Path("onnx", "net_hidden.npy")), outputs["hidden"], "hidden");
        var ops = runtime.Model.Graph.Nodes.Select(n => n.OpType).ToHashSet();
        Assert.Superset(new HashSet<string> { "Conv", "Relu", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool", "Concat", "Add", "Mul", "Flatten", "Gemm", "MatMul", "Softmax" }, ops);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(13)]
    public void Should_MatchPyTorch_OnConv1dReshapeAndBatchedMatMul(int opset)
    {
        var runtime = CnnRuntime.Load(VisionFixtures.Path("onnx", $"small_opset{opset}.onnx"));
        var y = runtime.Run(Npy.ReadFloat32(VisionFixtures.Path("onnx", "small_input.npy")), "y", TestContext.Current.CancellationToken);
        AssertClose(Npy.ReadFloat32(VisionFixtures.Path("onnx", "small_output.npy")), y, "y");
        Assert.Contains("Reshape", runtime.Model.Graph.Nodes.Select(n => n.OpType));
    }
}
