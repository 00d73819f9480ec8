namespace CrossModal.Vision.Onnx;

/// <summary>A declared graph input, output or intermediate value: name, element type and shape (-1 = symbolic or unknown).</summary>
public sealed class OnnxValueInfo
{
    internal OnnxValueInfo(string name, OnnxDataType elementType, IReadOnlyList<long>? shape)
    {
        Name = name;
        ElementType = elementType;
        Shape = shape;
    }

    /// <summary>The value's name.</summary>
    public string Name { get; }

    /// <summary>The element type (<see cref="OnnxDataType.Undefined"/> when not declared).</summary>
    public OnnxDataType ElementType { get; }

    /// <summary>The dimensions (-1 where symbolic), or null when the rank is unknown.</summary>
    public IReadOnlyList<long>? Shape { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {ElementType}{(Shape is null ? "" : "[" + string.Join(", ", Shape) + "]")}";

    /// <summary>Reads a ValueInfoProto message (TypeProto.Tensor only; other types keep an undefined element type).</summary>
    internal static OnnxValueInfo Parse(ref ProtoReader r)
    {
        string name = "";
        var elem = OnnxDataType.Undefined;
        List<long>? shape = null;
        while (r.TryReadTag(out int field, out var wt))
        {
            if (field == 1) name = r.ReadString();
            else if (field == 2)
            {
                var type = r.ReadMessage();
                while (type.TryReadTag(out int tf, out var twt))
                {
                    if (tf != 1) { type.Skip(twt); continue; }
                    var tensorType = type.ReadMessage();
                    while (tensorType.TryReadTag(out int f2, out var w2))
                    {
                        if (f2 == 1) elem = (OnnxDataType)tensorType.ReadInt32();
                        else if (f2 == 2)
                        {
                            shape = new List<long>();
                            var shapeMsg = tensorType.ReadMessage();
                            while (shapeMsg.TryReadTag(out int f3, out var w3))
                            {
                                if (f3 != 1) { shapeMsg.Skip(w3); continue; }
                                var dim = shapeMsg.ReadMessage();
                                long value = -1;
                                while (dim.TryReadTag(out int f4, out var w4))
                                {
                                    if (f4 == 1) value = dim.ReadInt64();
                                    else dim.Skip(w4);
                                }
                                shape.Add(value);
                            }
                        }
                        else tensorType.Skip(w2);
                    }
                }
            }
            else r.Skip(wt);
        }
        return new OnnxValueInfo(name, elem, shape);
    }
}
