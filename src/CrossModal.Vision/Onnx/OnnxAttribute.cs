namespace CrossModal.Vision.Onnx;

/// <summary>A node attribute: name, kind and value (only the field matching <see cref="Type"/> is meaningful).</summary>
public sealed class OnnxAttribute
{
    internal OnnxAttribute(string name, OnnxAttributeType type, float f, long i, string s, IReadOnlyList<float> floats,
        IReadOnlyList<long> ints, IReadOnlyList<string> strings, OnnxTensor? tensor)
    {
        Name = name;
        Type = type;
        Float = f;
        Int = i;
        String = s;
        Floats = floats;
        Ints = ints;
        Strings = strings;
        Tensor = tensor;
    }

    /// <summary>The attribute's name.</summary>
    public string Name { get; }

    /// <summary>The attribute's kind.</summary>
    public OnnxAttributeType Type { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.Float"/> attribute.</summary>
    public float Float { get; }

    /// <summary>The value of an <see cref="OnnxAttributeType.Int"/> attribute.</summary>
    public long Int { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.String"/> attribute (UTF-8 decoded).</summary>
    public string String { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.Floats"/> attribute.</summary>
    public IReadOnlyList<float> Floats { get; }

    /// <summary>The value of an <see cref="OnnxAttributeType.Ints"/> attribute.</summary>
    public IReadOnlyList<long> Ints { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.Strings"/> attribute.</summary>
    public IReadOnlyList<string> Strings { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.Tensor"/> attribute.</summary>
    public OnnxTensor? Tensor { get; }

    /// <inheritdoc/>
    public override string ToString() => Type switch
    {
        OnnxAttributeType.Float => $"{Name}={Float}",
        OnnxAttributeType.Int => $"{Name}={Int}",
        OnnxAttributeType.String => $"{Name}=\"{String}\"",
        OnnxAttributeType.Floats => $"{Name}=[{string.Join(", ", Floats)}]",
        OnnxAttributeType.Ints => $"{Name}=[{string.Join(", ", Ints)}]",
        OnnxAttributeType.Strings => $"{Name}=[{string.Join(", ", Strings)}]",
        _ => $"{Name}:{Type}",
    };

    /// <summary>Reads an AttributeProto message.</summary>
    internal static OnnxAttribute Parse(ref ProtoReader r, string source)
    {
        string name = "", s = "";
        var type = OnnxAttributeType.Undefined;
        float f = 0;
        long i = 0;
        bool hasF = false, hasI = false, hasS = false, hasG = false;
        var floats = new List<float>();
        var ints = new List<long>();
        var strings = new List<string>();
        OnnxTensor? tensor = null;
        int tensors = 0;
        while (r.TryReadTag(out int field, out var wt))
        {
            switch (field)
            {
                case 1: name = r.ReadString(); break;
                case 2: r.Expect(wt, ProtoWireType.Fixed32, "AttributeProto.f"); f = r.ReadFloat(); hasF = true; break;
                case 3: i = r.ReadInt64(); hasI = true; break;
                case 4: s = r.ReadString(); hasS = true; break;
                case 5:
                    {
                        var inner = r.ReadMessage();
                        tensor = OnnxTensor.Parse(ref inner, source);
                        break;
                    }
                case 6: hasG = true; r.Skip(wt); break;
                case 7: r.ReadRepeatedFloat(wt, floats); break;
                case 8: r.ReadRepeatedInt64(wt, ints); break;
                case 9: strings.Add(r.ReadString()); break;
                case 10: tensors++; r.Skip(wt); break;
                case 20: type = (OnnxAttributeType)r.ReadInt32(); break;
                default: r.Skip(wt); break;
            }
        }
        if (type == OnnxAttributeType.Undefined)
        {
            // IR version 1 files have no type field: the kind is whichever value is present.
            type = hasF ? OnnxAttributeType.Float : hasI ? OnnxAttributeType.Int : hasS ? OnnxAttributeType.String
                : tensor is not null ? OnnxAttributeType.Tensor : hasG ? OnnxAttributeType.Graph
                : floats.Count > 0 ? OnnxAttributeType.Floats : ints.Count > 0 ? OnnxAttributeType.Ints
                : strings.Count > 0 ? OnnxAttributeType.Strings : tensors > 0 ? OnnxAttributeType.Tensors : OnnxAttributeType.Undefined;
        }
        return new OnnxAttribute(name, type, f, i, s, floats.ToArray(), ints.ToArray(), strings.ToArray(), tensor);
    }
}
