using CrossModal.Vision.Onnx;

namespace CrossModal.Vision.Cnn;

/// <summary>
/// One executable node. Subclasses parse and validate their attributes in the constructor (load time) and compute
/// their outputs in <see cref="Run"/>, allocating them with <see cref="CnnValue.Rent"/>.
/// </summary>
internal abstract class CnnOperator
{
    protected CnnOperator(NodeAttributes attributes)
    {
        Node = attributes.Node;
        Attributes = attributes;
    }

    /// <summary>The ONNX node this operator runs.</summary>
    public OnnxNode Node { get; }

    protected NodeAttributes Attributes { get; }

    /// <summary>Computes the node's outputs (null for an omitted optional output) from its inputs (null when omitted).</summary>
    public abstract CnnValue?[] Run(CnnValue?[] inputs);

    /// <summary>True when this operator can apply a ReLU to its output itself (saves one pass over the data).</summary>
    public virtual bool CanFuseRelu => false;

    /// <summary>Runs the node and applies a ReLU to its (single) output, when <see cref="CanFuseRelu"/>.</summary>
    public virtual CnnValue?[] RunWithRelu(CnnValue?[] inputs) => throw new InvalidOperationException($"{Node.OpType} cannot fuse a Relu.");

    /// <summary>
    /// Whether the node treats every image of the batch independently (so the batch can be run image by image),
    /// given the ranks of its inputs (-1 = omitted) and which inputs are constants (null = computed); returns the
    /// ranks of its outputs, or null when images interact or it cannot tell. Default: not separable.
    /// </summary>
    public virtual int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants) => null;

    /// <summary>True when every input after the first is a constant or omitted (weights, bounds, parameters).</summary>
    protected static bool RestConstant(int[] inputRanks, CnnValue?[] constants)
    {
        for (int i = 1; i < inputRanks.Length; i++)
            if (inputRanks[i] >= 0 && constants[i] is null) return false;
        return constants.Length > 0 && constants[0] is null && inputRanks[0] >= 1;
    }

    protected CnnValue Input(CnnValue?[] inputs, int index, string what)
    {
        var v = index < inputs.Length ? inputs[index] : null;
        if (v is null) throw Attributes.Invalid($"input {index} ({what}) is missing");
        if (v.IsInt64) throw Attributes.Invalid($"input {index} ({what}) is int64, expected float");
        return v;
    }

    protected ArgumentException ShapeError(string what) => Attributes.Invalid(what);
}
