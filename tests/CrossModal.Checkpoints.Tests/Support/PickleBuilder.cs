using System.Buffers.Binary;
using System.Text;

namespace CrossModal.Checkpoints.Tests.Support;

/// <summary>Writes pickle opcodes by hand, for hostile and edge-case inputs that no Python would produce.</summary>
internal sealed class PickleBuilder
{
    private readonly MemoryStream _out = new();

    public PickleBuilder Raw(params byte[] bytes)
    {
        _out.Write(bytes);
        return this;
    }

    public PickleBuilder Proto(int version = 2) => Raw(0x80, (byte)version);

    public PickleBuilder Global(string module, string name) => Raw((byte)'c').Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    public PickleBuilder StackGlobal(string module, string name) => Str(module).Str(name).Raw(0x93);

    public PickleBuilder Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(len, b.Length);
        return Raw((byte)'X').Raw(len.ToArray()).Raw(b);
    }

    public PickleBuilder Int(int v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        return Raw((byte)'J').Raw(b.ToArray());
    }

    /// <summary>LONG1 with 8 bytes: any 64-bit value.</summary>
    public PickleBuilder Long(long v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, v);
        return Raw(0x8a, 8).Raw(b.ToArray());
    }

    public PickleBuilder Mark() => Raw((byte)'(');

    /// <summary>A _rebuild_tensor_v2 call on a legacy persistent storage id (numel and view are written as given).</summary>
    public PickleBuilder TensorV2(string key, long numel, long offset, long[] size, long[] stride, string storage = "FloatStorage")
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark();
        Mark().Str("storage").Global("torch", storage).Str(key).Str("cpu").Long(numel).Raw((byte)'N').Tuple().Raw((byte)'Q');
        Long(offset);
        Mark();
        foreach (long d in size) Long(d);
        Tuple();
        Mark();
        foreach (long d in stride) Long(d);
        Tuple();
        Raw(0x89).Global("collections", "OrderedDict").EmptyTuple().Reduce();
        return Tuple().Reduce();
    }

    public PickleBuilder Tuple() => Raw((byte)'t');

    public PickleBuilder EmptyTuple() => Raw((byte)')');

    public PickleBuilder EmptyDict() => Raw((byte)'}');

    public PickleBuilder Reduce() => Raw((byte)'R');

    public PickleBuilder SetItems() => Raw((byte)'u');

    public PickleBuilder Stop() => Raw((byte)'.');

    public byte[] ToArray() => _out.ToArray();

    /// <summary>A legacy torch checkpoint around an object pickle: magic, protocol 1001, sys-info, the pickle, keys, storages.</summary>
    public static byte[] Legacy(byte[] objectPickle, params (string Key, long Count, byte[] Data)[] storages)
    {
        var ms = new MemoryStream();
        ms.Write([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
        ms.Write([0x80, 0x02, (byte)'M', 0xe9, 0x03, 0x2e]);
        ms.Write(new PickleBuilder().Proto().EmptyDict().Mark().Str("little_endian").Raw(0x88).SetItems().Stop().ToArray());
        ms.Write(objectPickle);
        var keys = new PickleBuilder().Proto().Raw((byte)']').Mark();
        foreach (var s in storages) keys.Str(s.Key);
        ms.Write(keys.Raw((byte)'e').Stop().ToArray());
        Span<byte> count = stackalloc byte[8];
        foreach (var s in storages)
        {
            BinaryPrimitives.WriteInt64LittleEndian(count, s.Count);
            ms.Write(count);
            ms.Write(s.Data);
        }
        return ms.ToArray();
    }
}
