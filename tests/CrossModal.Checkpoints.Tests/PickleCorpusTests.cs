using CrossModal.Checkpoints.Python;
using CrossModal.Checkpoints.Tests.Support;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// One value holding every kind of Python data a checkpoint may contain, pickled by Python with protocols 0-5
/// (text opcodes, memo, MARK/TUPLE/DICT/SETITEMS, BUILD, REDUCE, NEWOBJ, STACK_GLOBAL, FRAME, LONG1, BINFLOAT,
/// BYTEARRAY8, numpy scalars, copyreg._reconstructor) and once in Python 2 style; each loads as Python saw it.
/// </summary>
public sealed class PickleCorpusTests
{
    public static TheoryData<int> Protocols => new(0, 1, 2, 3, 4, 5);

    [Theory]
    [MemberData(nameof(Protocols))]
    public void Should_ReadEveryProtocolLikePython(int protocol)
    {
        var path = CheckpointManifest.PathOf($"pickles/corpus.p{protocol}.pkl");
        var value = Ckpt.Pickle(File.ReadAllBytes(path), path);
        PyExpect.Matches(CheckpointManifest.Root.GetProperty("pickles").GetProperty("value"), value);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void Should_KeepSharedObjectsShared(int protocol)
    {
        // value["shared"] = [x, x]: the memo must give back one object, as Python's unpickler does.
        var path = CheckpointManifest.PathOf($"pickles/corpus.p{protocol}.pkl");
        var shared = (PyList)((PyDict)Ckpt.Pickle(File.ReadAllBytes(path), path)!)["shared"]!;
        Assert.Same(shared[0], shared[1]);
    }

    [Fact]
    public void Should_ReadPython2ByteStringsAndNumpyScalars()
    {
        var path = CheckpointManifest.PathOf("pickles/py2.p2.pkl");
        var value = Ckpt.Pickle(File.ReadAllBytes(path), path);
        PyExpect.Matches(CheckpointManifest.Root.GetProperty("pickles").GetProperty("py2_value"), value);
    }

    [Fact]
    public void Should_ReadProtocol0TextStringsWithEscapes()
    {
        // Python 2: pickle.dumps("it's\n\xe9", 0) == "S\"it's\\n\\xe9\"\np0\n." (a byte string; \xe9 is not UTF-8 -> Latin-1)
        var bytes = "S\"it's\\n\\xe9\"\np0\n."u8.ToArray();
        Assert.Equal("it's\n\u00e9", Ckpt.Pickle(bytes, "p0"));
        var unicode = "Vcaf\\u00e9 \\U0001f600\np0\n."u8.ToArray();
        Assert.Equal("caf\u00e9 \U0001F600", Ckpt.Pickle(unicode, "p0"));
        Assert.Equal(true, Ckpt.Pickle("I01\n."u8.ToArray(), "p0"));
        Assert.Equal(-12L, Ckpt.Pickle("I-12\n."u8.ToArray(), "p0"));
        Assert.Equal(12345678901234567890123m.ToString(), Ckpt.Pickle("L12345678901234567890123L\n."u8.ToArray(), "p0")!.ToString());
        Assert.Equal(double.PositiveInfinity, Ckpt.Pickle("Finf\n."u8.ToArray(), "p0"));
    }

    [Fact]
    public void Should_RebuildDeclaredInertClassesAsAttributeHolders()
    {
        // VSE++'s vocabulary pickle: __main__.Vocabulary via NEWOBJ + BUILD of its attribute dict.
        var bytes = new PickleBuilder().Proto().Global("__main__", "Vocabulary").EmptyTuple().Raw(0x81)
            .EmptyDict().Mark().Str("idx").Int(4).SetItems().Raw((byte)'b').Stop().ToArray();
        var refused = Assert.Throws<InvalidDataException>(() => Ckpt.Pickle(bytes, "vocab.pkl"));
        Assert.Contains("global '__main__.Vocabulary' is not allowed", refused.Message);
        var obj = Assert.IsType<PyObject>(Ckpt.Pickle(bytes, "vocab.pkl", new[] { "__main__.Vocabulary" }));
        Assert.Equal("__main__.Vocabulary", obj.ClassName);
        Assert.Equal(4L, obj["idx"]);
    }
}
