namespace CrossModal.Vision.Onnx;

/// <summary>One graph node: an operator applied to named inputs, producing named outputs (empty names = absent optional).</summary>
public sealed class OnnxNode
{
    internal OnnxNode(string name, string opType, string domain, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs,
        IReadOnlyDictionary<string, OnnxAttribute> attributes)
    {
        Name = name;
        OpType = opType;
        Domain = domain;
        Inputs = inputs;
        Outputs = outputs;
        Attributes = attributes;
    }

    /// <summary>The node's name (may be empty).</summary>
    public string Name { get; }

    /// <summary>The operator, e.g. "Conv".</summary>
    public string OpType { get; }

    /// <summary>The operator set domain ("" or "ai.onnx" for the standard operators).</summary>
    public string Domain { get; }

    /// <summary>Input value names, in the operator's order; "" marks an omitted optional input.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>Output value names; "" marks an omitted optional output.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Attributes by name.</summary>
    public IReadOnlyDictionary<string, OnnxAttribute> Attributes { get; }

    /// <summary>"name (OpType)" or "OpType -> first output" for unnamed nodes, for messages.</summary>
    public string Describe() => Name.Length > 0 ? $"node '{Name}' ({OpType})" : $"{OpType} node producing '{(Outputs.Count > 0 ? Outputs[0] : "")}'";

    /// <inheritdoc/>
    public override string ToString() =>
        $"{OpType}({string.Join(", ", Inputs)}) -> {string.Join(", ", Outputs)} {string.Join(" ", Attributes.Values)}";

    /// <summary>Reads a NodeProto message.</summary>
    internal static OnnxNode Parse(ref ProtoReader r, string source)
    {
        string name = "", op = "", domain = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        while (r.TryReadTag(out int field, out var wt))
        {
            switch (field)
            {
                case 1: inputs.Add(r.ReadString()); break;
                case 2: outputs.Add(r.ReadString()); break;
                case 3: name = r.ReadString(); break;
                case 4: op = r.ReadString(); break;
                case 5:
                    {
                        var inner = r.ReadMessage();
                        var a = OnnxAttribute.Parse(ref inner, source);
                        if (!attributes.TryAdd(a.Name, a)) throw new InvalidDataException($"{source}: node '{name}' ({op}) has attribute '{a.Name}' twice.");
                        break;
                    }
                case 7: domain = r.ReadString(); break;
                default: r.Skip(wt); break;
            }
        }
        if (op.Length == 0) throw new InvalidDataException($"{source}: a node named '{name}' has no op_type.");
        return new OnnxNode(name, op, domain, inputs, outputs, attributes);
    }
}
