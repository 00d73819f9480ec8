using CrossModal.Vision.Onnx;

namespace CrossModal.Vision.Cnn;

/// <summary>
/// Reads a node's attributes for an operator and refuses, at load time, any attribute the operator does not know
/// (so a model that relies on something unimplemented fails before running, naming the node and attribute).
/// </summary>
internal sealed class NodeAttributes
{
    private readonly OnnxNode _node;
    private readonly string _source;

    public NodeAttributes(OnnxNode node, string source, params string[] known)
    {
        _node = node;
        _source = source;
        foreach (var name in node.Attributes.Keys)
            if (Array.IndexOf(known, name) < 0)
                throw Unsupported($"attribute '{name}' is not supported by our {node.OpType} (supported: {(known.Length == 0 ? "none" : string.Join(", ", known))})");
    }

    public OnnxNode Node => _node;

    public NotSupportedException Unsupported(string what) => new($"{_source}: {_node.Describe()}: {what}.");

    public ArgumentException Invalid(string what) => new($"{_source}: {_node.Describe()}: {what}.");

    public bool Has(string name) => _node.Attributes.ContainsKey(name);

    public long Int(string name, long fallback) => _node.Attributes.TryGetValue(name, out var a) ? Expect(a, OnnxAttributeType.Int).Int : fallback;

    public float Float(string name, float fallback) => _node.Attributes.TryGetValue(name, out var a) ? Expect(a, OnnxAttributeType.Float).Float : fallback;

    public string String(string name, string fallback) => _node.Attributes.TryGetValue(name, out var a) ? Expect(a, OnnxAttributeType.String).String : fallback;

    public int[]? Ints(string name) => _node.Attributes.TryGetValue(name, out var a)
        ? Expect(a, OnnxAttributeType.Ints).Ints.Select(v => checked((int)v)).ToArray()
        : null;

    public OnnxAttribute? Get(string name) => _node.Attributes.TryGetValue(name, out var a) ? a : null;

    private OnnxAttribute Expect(OnnxAttribute a, OnnxAttributeType type)
    {
        if (a.Type != type) throw Invalid($"attribute '{a.Name}' is {a.Type}, expected {type}");
        return a;
    }
}
