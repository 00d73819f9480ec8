using System.Text;

namespace CrossModal.Vision.Tests.Onnx;

/// <summary>
/// A minimal protobuf encoder for building small ONNX models inside tests (field numbers from onnx.proto), so the
/// runtime's refusals can be tested on graphs no exporter would write.
/// </summary>
internal sealed class ProtoBuilder
{
    private readonly MemoryStream _ms = new();

    public byte[] ToArray() => _ms.ToArray();

    public ProtoBuilder Varint(int field, long value)
    {
        Tag(field, 0);
        WriteVarint((ulong)value);
        return this;
    }

    public ProtoBuilder Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        WriteVarint((ulong)value.Length);
        _ms.Write(value);
        return this;
    }

    public ProtoBuilder String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoBuilder Message(int field, ProtoBuilder inner) => Bytes(field, inner.ToArray());

    public ProtoBuilder Fixed32(int field, float value)
    {
        Tag(field, 5);
        _ms.Write(BitConverter.GetBytes(value));
        return this;
    }

    private void Tag(int field, int wire) => WriteVarint((ulong)((field << 3) | wire));

    private void WriteVarint(ulong v)
    {
        while (v >= 0x80)
        {
            _ms.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _ms.WriteByte((byte)v);
    }

    // ---- ONNX helpers --------------------------------------------------------------------------------------

    public static ProtoBuilder Node(string op, string[] inputs, string[] outputs, params ProtoBuilder[] attributes)
    {
        var n = new ProtoBuilder();
        foreach (var i in inputs) n.String(1, i);
        foreach (var o in outputs) n.String(2, o);
        n.String(3, op.ToLowerInvariant() + "_node");
        n.String(4, op);
        foreach (var a in attributes) n.Message(5, a);
        return n;
    }

    public static ProtoBuilder IntAttribute(string name, long value) => new ProtoBuilder().String(1, name).Varint(3, value).Varint(20, 2);

    public static ProtoBuilder IntsAttribute(string name, params long[] values)
    {
        var a = new ProtoBuilder().String(1, name);
        foreach (var v in values) a.Varint(8, v);
        return a.Varint(20, 7);
    }

    public static ProtoBuilder FloatTensor(string name, int[] dims, float[] values)
    {
        var t = new ProtoBuilder();
        foreach (var d in dims) t.Varint(1, d);
        t.Varint(2, 1);
        t.String(8, name);
        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        t.Bytes(9, raw);
        return t;
    }

    public static ProtoBuilder ValueInfo(string name, params int[] dims)
    {
        var shape = new ProtoBuilder();
        foreach (var d in dims) shape.Message(1, new ProtoBuilder().Varint(1, d));
        var tensorType = new ProtoBuilder().Varint(1, 1).Message(2, shape);
        return new ProtoBuilder().String(1, name).Message(2, new ProtoBuilder().Message(1, tensorType));
    }

    public static byte[] Model(long opset, ProtoBuilder[] nodes, ProtoBuilder[] initializers, ProtoBuilder[] inputs, ProtoBuilder[] outputs)
    {
        var g = new ProtoBuilder();
        foreach (var n in nodes) g.Message(1, n);
        g.String(2, "test");
        foreach (var t in initializers) g.Message(5, t);
        foreach (var i in inputs) g.Message(11, i);
        foreach (var o in outputs) g.Message(12, o);
        return new ProtoBuilder().Varint(1, 7).String(2, "tests").Message(7, g).Message(8, new ProtoBuilder().String(1, "").Varint(2, opset)).ToArray();
    }
}
