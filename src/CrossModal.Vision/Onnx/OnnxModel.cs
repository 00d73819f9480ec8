namespace CrossModal.Vision.Onnx;

/// <summary>
/// An ONNX model file read with our own protobuf reader: IR version, producer, operator-set versions and the main
/// graph. Reading does not check that the operators are supported; the CNN runtime does that.
/// </summary>
public sealed class OnnxModel
{
    internal OnnxModel(string source, long irVersion, string producerName, string producerVersion,
        IReadOnlyDictionary<string, long> opsets, OnnxGraph graph)
    {
        Source = source;
        IrVersion = irVersion;
        ProducerName = producerName;
        ProducerVersion = producerVersion;
        Opsets = opsets;
        Graph = graph;
    }

    /// <summary>Where the model came from (a path or a caller-given name), used in messages.</summary>
    public string Source { get; }

    /// <summary>The ONNX IR version.</summary>
    public long IrVersion { get; }

    /// <summary>The producing tool, e.g. "pytorch".</summary>
    public string ProducerName { get; }

    /// <summary>The producing tool's version.</summary>
    public string ProducerVersion { get; }

    /// <summary>Operator-set versions by domain ("" is the standard ai.onnx domain).</summary>
    public IReadOnlyDictionary<string, long> Opsets { get; }

    /// <summary>The standard-domain operator-set version (1 when the file declares none, as IR 1-2 files may).</summary>
    public long Opset => Opsets.TryGetValue("", out long v) ? v : Opsets.TryGetValue("ai.onnx", out v) ? v : 1;

    /// <summary>The main graph.</summary>
    public OnnxGraph Graph { get; }

    /// <summary>Reads an .onnx file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed ONNX model, or stores tensors in a way this reader does not support (external data, sparse initializers, strings).</exception>
    public static OnnxModel Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model not found: {path}", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads a model from its serialized bytes; <paramref name="source"/> names it in messages.</summary>
    public static OnnxModel Parse(ReadOnlySpan<byte> bytes, string source)
    {
        var r = new ProtoReader(bytes, source);
        long ir = 0;
        string producer = "", producerVersion = "";
        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        OnnxGraph? graph = null;
        while (r.TryReadTag(out int field, out var wt))
        {
            switch (field)
            {
                case 1: ir = r.ReadInt64(); break;
                case 2: producer = r.ReadString(); break;
                case 3: producerVersion = r.ReadString(); break;
                case 7: { var m = r.ReadMessage(); graph = OnnxGraph.Parse(ref m, source); break; }
                case 8:
                    {
                        var m = r.ReadMessage();
                        string domain = "";
                        long version = 0;
                        while (m.TryReadTag(out int f, out var w))
                        {
                            if (f == 1) domain = m.ReadString();
                            else if (f == 2) version = m.ReadInt64();
                            else m.Skip(w);
                        }
                        opsets[domain] = version;
                        break;
                    }
                default: r.Skip(wt); break;
            }
        }
        if (graph is null) throw new InvalidDataException($"{source}: not an ONNX model (no graph found in {bytes.Length} bytes).");
        return new OnnxModel(source, ir, producer, producerVersion, opsets, graph);
    }
}
