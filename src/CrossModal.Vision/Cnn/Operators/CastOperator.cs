using CrossModal.Vision.Onnx;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// ONNX Cast between the runtime's two element kinds: float types (computed as float32) and integer types (kept as
/// int64, e.g. a shape constant torch casts to int64 before Reshape). Other targets are refused.
/// </summary>
internal sealed class CastOperator : CnnOperator
{
    private readonly bool _toFloat;

    public CastOperator(NodeAttributes a) : base(a)
    {
        var to = (OnnxDataType)a.Int("to", 0);
        _toFloat = to switch
        {
            OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.Double or OnnxDataType.BFloat16 => true,
            OnnxDataType.Int64 or OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.Int8 or OnnxDataType.UInt8 => false,
            _ => throw a.Unsupported($"Cast to {to}"),
        };
    }

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants) =>
        RestConstant(inputRanks, constants) ? new[] { inputRanks[0] } : null;

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = inputs.Length > 0 ? inputs[0] : null;
        if (x is null) throw ShapeError("input is missing");
        if (_toFloat)
        {
            var y = CnnValue.Rent(x.Shape);
            if (x.IsInt64) for (int i = 0; i < x.Length; i++) y.Span[i] = x.Ints![i];
            else x.Span.CopyTo(y.Span);
            return new CnnValue?[] { y };
        }
        var ints = x.IsInt64 ? (long[])x.Ints!.Clone() : x.Span.ToArray().Select(v => (long)v).ToArray();
        return new CnnValue?[] { CnnValue.FromInts(ints, x.Shape) };
    }
}
