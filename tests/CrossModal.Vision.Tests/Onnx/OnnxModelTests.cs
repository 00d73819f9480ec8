using CrossModal.Tests;
using CrossModal.Vision.Onnx;

namespace CrossModal.Vision.Tests.Onnx;

public class OnnxModelTests
{
    [Fact]
    public void Should_ReadSqueezeNetGraph_AsTheReadmeDescribesIt()
    {
        // ../shared/data/squeezenet/README.md: opset 7, IR 3, producer onnx-caffe2, input data_0 [1,3,224,224]
        // float16, output softmaxout_1 [1,1000,1,1]; Conv x26, Relu x26, Concat x8, MaxPool x3, Dropout,
        // GlobalAveragePool, Softmax.
        var model = OnnxModel.Load(TestData.Path("squeezenet", "SqueezeNet_fp16.onnx"));
        Assert.Equal(3, model.IrVersion);
        Assert.Equal(7, model.Opset);
        Assert.Equal("onnx-caffe2", model.ProducerName);
        var input = Assert.Single(model.Graph.RuntimeInputs);
        Assert.Equal("data_0", input.Name);
        Assert.Equal(OnnxDataType.Float16, input.ElementType);
        Assert.Equal(new long[] { 1, 3, 224, 224 }, input.Shape);
        var output = Assert.Single(model.Graph.Outputs);
        Assert.Equal("softmaxout_1", output.Name);
        Assert.Equal(new long[] { 1, 1000, 1, 1 }, output.Shape);
        var counts = model.Graph.Nodes.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(26, counts["Conv"]);
        Assert.Equal(26, counts["Relu"]);
        Assert.Equal(8, counts["Concat"]);
        Assert.Equal(3, counts["MaxPool"]);
        Assert.Equal(1, counts["Dropout"]);
        Assert.Equal(1, counts["GlobalAveragePool"]);
        Assert.Equal(1, counts["Softmax"]);
        var conv1 = model.Graph.Nodes[0];
        Assert.Equal(new long[] { 2, 2 }, conv1.Attributes["strides"].Ints);
        Assert.Equal(new long[] { 3, 3 }, conv1.Attributes["kernel_shape"].Ints);
    }

    [Fact]
    public void Should_WidenFloat16Initializers_ExactlyAsTheFloat32ExportDid()
    {
        // squeezenet11_fp32_from_fp16.onnx was made by casting the fp16 initializers to float32 (numpy); our own
        // half-to-float conversion must give the identical values.
        var fp16 = OnnxModel.Load(TestData.Path("squeezenet", "SqueezeNet_fp16.onnx")).Graph.Initializers;
        var fp32 = OnnxModel.Load(TestData.Path("squeezenet", "squeezenet11_fp32_from_fp16.onnx")).Graph.Initializers;
        Assert.Equal(52, fp16.Count);
        Assert.Equal(fp16.Keys.Order(), fp32.Keys.Order());
        foreach (var (name, t) in fp16)
        {
            Assert.Equal(OnnxDataType.Float16, t.DataType);
            Assert.Equal(OnnxDataType.Float, fp32[name].DataType);
            Assert.Equal(fp32[name].Dims, t.Dims);
            Assert.Equal(fp32[name].ToFloat32(), t.ToFloat32());
        }
    }

    [Fact]
    public void Should_ReportMalformedFiles_NamingThem()
    {
        var bytes = File.ReadAllBytes(TestData.Path("squeezenet", "SqueezeNet_fp16.onnx"));
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Parse(bytes.AsSpan(0, bytes.Length / 2), "half.onnx"));
        Assert.StartsWith("half.onnx:", e.Message);
        Assert.Throws<FileNotFoundException>(() => OnnxModel.Load("/nonexistent/model.onnx"));
    }

    // Found by the fuzz runner (issue 20): storage this reader does not support threw NotSupportedException from
    // the parser, whose documented error is InvalidDataException naming the file; and dimensions whose product
    // wraps around in 64 bits passed the size check.
    [Fact]
    public void Should_RefuseUnsupportedStorage_WithTheDocumentedError()
    {
        var graph = new ProtoBuilder().String(2, "g").Message(15, new ProtoBuilder().Varint(1, 1));
        var cases = new (string What, byte[] Bytes, string Message)[]
        {
            ("sparse", new ProtoBuilder().Varint(1, 7).Message(7, graph).ToArray(), "sparse initializers are not supported"),
            ("undefined type", ModelWith(new ProtoBuilder().Varint(1, 2).Varint(2, 0).String(8, "w").Bytes(9, new byte[8])), "of type Undefined is not supported"),
            ("string type", ModelWith(new ProtoBuilder().Varint(1, 1).Varint(2, 8).String(8, "w")), "is not supported"),
            ("external data", ModelWith(new ProtoBuilder().Varint(1, 1).Varint(2, 1).String(8, "w").Varint(14, 1)), "external file"),
            ("wrapping dims", ModelWith(new ProtoBuilder().Varint(1, 1L << 30).Varint(1, 1L << 30).Varint(1, 1L << 30).Varint(1, 16).Varint(2, 1).String(8, "w")), "more than 2^31 elements"),
            ("huge dim", ModelWith(new ProtoBuilder().Varint(1, 1L << 40).Varint(1, 0).Varint(2, 1).String(8, "w")), "more than 2^31"),
        };
        foreach (var (what, bytes, message) in cases)
        {
            var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Parse(bytes, "odd.onnx"));
            Assert.True(e.Message.StartsWith("odd.onnx: ", StringComparison.Ordinal), $"{what}: {e.Message}");
            Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"{what}: {e.Message}");
        }
    }

    private static byte[] ModelWith(ProtoBuilder initializer) =>
        new ProtoBuilder().Varint(1, 7).Message(7, new ProtoBuilder().String(2, "g").Message(5, initializer)).ToArray();
}
