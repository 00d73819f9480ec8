namespace CrossModal.Vision.Onnx;

/// <summary>An ONNX graph: nodes (in file order, which ONNX requires to be topological), initializers, inputs and outputs.</summary>
public sealed class OnnxGraph
{
    internal OnnxGraph(string name, IReadOnlyList<OnnxNode> nodes, IReadOnlyDictionary<string, OnnxTensor> initializers,
        IReadOnlyList<OnnxValueInfo> inputs, IReadOnlyList<OnnxValueInfo> outputs, IReadOnlyList<OnnxValueInfo> valueInfo)
    {
        Name = name;
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
        ValueInfo = valueInfo;
    }

    /// <summary>The graph's name.</summary>
    public string Name { get; }

    /// <summary>The nodes in file order.</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>Constant tensors (weights) by name.</summary>
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }

    /// <summary>Declared inputs; older files also list the initializers here.</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    /// <summary>Declared outputs.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>Optional declarations of intermediate values.</summary>
    public IReadOnlyList<OnnxValueInfo> ValueInfo { get; }

    /// <summary>The inputs that must be fed at run time (declared inputs that are not initializers).</summary>
    public IReadOnlyList<OnnxValueInfo> RuntimeInputs => Inputs.Where(i => !Initializers.ContainsKey(i.Name)).ToArray();

    /// <summary>Reads a GraphProto message.</summary>
    internal static OnnxGraph Parse(ref ProtoReader r, string source)
    {
        string name = "";
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        var valueInfo = new List<OnnxValueInfo>();
        while (r.TryReadTag(out int field, out var wt))
        {
            switch (field)
            {
                case 1: { var m = r.ReadMessage(); nodes.Add(OnnxNode.Parse(ref m, source)); break; }
                case 2: name = r.ReadString(); break;
                case 5:
                    {
                        var m = r.ReadMessage();
                        var t = OnnxTensor.Parse(ref m, source);
                        if (!initializers.TryAdd(t.Name, t)) throw new InvalidDataException($"{source}: initializer '{t.Name}' appears twice.");
                        break;
                    }
                case 11: { var m = r.ReadMessage(); inputs.Add(OnnxValueInfo.Parse(ref m)); break; }
                case 12: { var m = r.ReadMessage(); outputs.Add(OnnxValueInfo.Parse(ref m)); break; }
                case 13: { var m = r.ReadMessage(); valueInfo.Add(OnnxValueInfo.Parse(ref m)); break; }
                case 15: throw new InvalidDataException($"{source}: sparse initializers are not supported.");
                default: r.Skip(wt); break;
            }
        }
        return new OnnxGraph(name, nodes, initializers, inputs, outputs, valueInfo);
    }
}
