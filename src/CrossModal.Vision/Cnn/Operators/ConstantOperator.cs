using CrossModal.Vision.Onnx;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>ONNX Constant: a tensor (or value_float(s)/value_int(s)) fixed at load time; int64 stays int64 for Reshape.</summary>
internal sealed class ConstantOperator : CnnOperator
{
    private readonly CnnValue _value;

    public ConstantOperator(NodeAttributes a) : base(a)
    {
        var attrs = a.Node.Attributes;
        if (attrs.Count != 1) throw a.Invalid($"Constant needs exactly one value attribute, found {attrs.Count}");
        var attr = attrs.Values.First();
        _value = attr.Name switch
        {
            "value" => FromTensor(attr.Tensor ?? throw a.Invalid("value is not a tensor")),
            "value_float" => CnnValue.Wrap(new[] { attr.Float }, 0, Array.Empty<int>()),
            "value_floats" => CnnValue.Wrap(attr.Floats.ToArray(), 0, new[] { attr.Floats.Count }),
            "value_int" => CnnValue.FromInts(new[] { attr.Int }, Array.Empty<int>()),
            "value_ints" => CnnValue.FromInts(attr.Ints.ToArray(), new[] { attr.Ints.Count }),
            _ => throw a.Unsupported($"Constant attribute '{attr.Name}'"),
        };
    }

    /// <summary>The constant (available at load time, e.g. for weights given by Constant nodes).</summary>
    public CnnValue Value => _value;

    public override CnnValue?[] Run(CnnValue?[] inputs) => new CnnValue?[] { _value };

    internal static CnnValue FromTensor(OnnxTensor t) => t.DataType switch
    {
        OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.Double or OnnxDataType.BFloat16 => CnnValue.Wrap(t.ToFloat32(), 0, t.Shape),
        _ => CnnValue.FromInts(t.ToInt64(), t.Shape),
    };
}
