using CrossModal.Checkpoints.Python;
using CrossModal.Checkpoints.Tests.Support;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// Inputs built to exhaust memory or the stack, or to read outside a storage: each is refused with one
/// InvalidDataException before any large allocation (length fields are checked against the bytes present,
/// object counts against <see cref="TorchLoadLimits"/>, tensor views against their storages).
/// </summary>
public sealed class HostileInputTests
{
    private static readonly byte[] FourFloats = new byte[16];

    [Fact]
    public void Should_RefuseLengthFieldsLargerThanTheFile()
    {
        var text = new PickleBuilder().Proto().Raw((byte)'X', 0xff, 0xff, 0xff, 0xff).Stop().ToArray();
        var e = Assert.Throws<InvalidDataException>(() => Ckpt.Pickle(text, "big.pkl"));
        Assert.Contains("BINUNICODE claims 4294967295 bytes but only 1 remain", e.Message);
        var bytes8 = new PickleBuilder().Proto(4).Raw(0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f).Stop().ToArray();
        Assert.Contains("BINBYTES8 claims", Assert.Throws<InvalidDataException>(() => Ckpt.Pickle(bytes8, "big.pkl")).Message);
        var long4 = new PickleBuilder().Proto().Raw(0x8b, 0x00, 0x00, 0x00, 0x40).Stop().ToArray();
        Assert.Contains("integer of 1073741824 bytes exceeds the limit", Assert.Throws<InvalidDataException>(() => Ckpt.Pickle(long4, "big.pkl")).Message);
    }

    [Fact]
    public void Should_BoundTheStackAndTheMemo()
    {
        var limits = TorchLoadLimits.Default with { MaxStackItems = 1000, MaxMemoEntries = 100 };
        var nones = new PickleBuilder().Proto();
        for (int i = 0; i < 1001; i++) nones.Raw((byte)'N');
        var e = Assert.Throws<InvalidDataException>(() => PickleFile.Parse(nones.Stop().ToArray(), "stack.pkl", null, limits, TestContext.Current.CancellationToken));
        Assert.Contains("more than 1000 items on the pickle stack", e.Message);
        var memo = new PickleBuilder().Proto().Raw((byte)'N');
        for (int i = 0; i < 101; i++) memo.Raw((byte)'r').Raw(BitConverter.GetBytes(i));
        e = Assert.Throws<InvalidDataException>(() => PickleFile.Parse(memo.Stop().ToArray(), "memo.pkl", null, limits, TestContext.Current.CancellationToken));
        Assert.Contains("more than 100 memo entries", e.Message);
    }

    [Fact]
    public void Should_RefuseDeeplyNestedDictKeysWithoutOverflowingTheStack()
    {
        // {((((...1...),),): 0} nested 100,000 deep: hashing it must not recurse without bound.
        var b = new PickleBuilder().Proto().EmptyDict().Raw((byte)'K', 1);
        for (int i = 0; i < 100_000; i++) b.Raw(0x85);
        b.Raw((byte)'K', 0).Raw((byte)'s').Stop();
        var e = Assert.Throws<InvalidDataException>(() => Ckpt.Pickle(b.ToArray(), "deep.pkl"));
        Assert.Contains("nested deeper than", e.Message);
    }

    [Fact]
    public void Should_RefuseUnhashableKeysAndUndefinedMemoEntries()
    {
        var listKey = new PickleBuilder().Proto().EmptyDict().Raw((byte)']').Raw((byte)'K', 0).Raw((byte)'s').Stop().ToArray();
        Assert.Contains("unhashable type 'list'", Assert.Throws<InvalidDataException>(() => Ckpt.Pickle(listKey, "k.pkl")).Message);
        var get = new PickleBuilder().Proto().Raw((byte)'h', 7).Stop().ToArray();
        Assert.Contains("memo entry 7 is read before it is written", Assert.Throws<InvalidDataException>(() => Ckpt.Pickle(get, "g.pkl")).Message);
    }

    [Fact]
    public void Should_LoadASelfReferencingListWithoutRecursing()
    {
        // l = []; l.append(l): legal Python, and nothing in the loader may walk it recursively.
        var b = new PickleBuilder().Proto().Raw((byte)']').Raw((byte)'q', 0).Raw((byte)'h', 0).Raw((byte)'a').Stop().ToArray();
        var list = Assert.IsType<PyList>(Ckpt.Pickle(b, "self.pkl"));
        Assert.Same(list, list[0]);
    }

    [Fact]
    public void Should_RefuseATensorThatReadsOutsideItsStorage()
    {
        var pickle = new PickleBuilder().Proto().TensorV2("0", 4, 0, [10], [1]).Stop().ToArray();
        var e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(PickleBuilder.Legacy(pickle, ("0", 4, FourFloats)), "oob.pth"));
        Assert.Contains("reads element 9 of a storage with 4 elements", e.Message);
        pickle = new PickleBuilder().Proto().TensorV2("0", 4, 0, [2], [-1]).Stop().ToArray();
        e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(PickleBuilder.Legacy(pickle, ("0", 4, FourFloats)), "neg.pth"));
        Assert.Contains("negative entry", e.Message);
        pickle = new PickleBuilder().Proto().TensorV2("0", 4, long.MaxValue / 2, [2, 2], [long.MaxValue / 4, 1]).Stop().ToArray();
        e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(PickleBuilder.Legacy(pickle, ("0", 4, FourFloats)), "overflow.pth"));
        Assert.Contains("of a storage with 4 elements", e.Message);
    }

    [Fact]
    public void Should_RefuseStrideZeroExpansionBeyondTheBudget()
    {
        // One float expanded to 2^30 elements (4 GB as float32) by a stride of 0.
        var pickle = new PickleBuilder().Proto().TensorV2("0", 1, 0, [1L << 30], [0]).Stop().ToArray();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(PickleBuilder.Legacy(pickle, ("0", 1, new byte[4])), "expand.pth"));
        Assert.Contains("tensors would expand to more than", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
    }

    [Fact]
    public void Should_RefuseAStorageWhoseDataIsMissingOrSizedDifferently()
    {
        var pickle = new PickleBuilder().Proto().TensorV2("0", 1L << 50, 0, [4], [1]).Stop().ToArray();
        var e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(PickleBuilder.Legacy(pickle, ("0", 1L << 50, FourFloats)), "huge.pth"));
        Assert.Contains("needs 4503599627370496 bytes but only 16 remain", e.Message);
        pickle = new PickleBuilder().Proto().TensorV2("0", long.MaxValue, 0, [4], [1]).Stop().ToArray();
        e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(PickleBuilder.Legacy(pickle, ("0", long.MaxValue, FourFloats)), "max.pth"));
        Assert.Contains("storage element count 9223372036854775807 is impossibly large", e.Message);
        pickle = new PickleBuilder().Proto().TensorV2("0", 4, 0, [4], [1]).Stop().ToArray();
        e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(PickleBuilder.Legacy(pickle, ("0", 3, FourFloats)), "count.pth"));
        Assert.Contains("storage '0' has 3 elements in its data section but 4 in the pickle", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(PickleBuilder.Legacy(pickle), "nodata.pth"));
        Assert.Contains("storage '0' is used by a tensor but its data is not in the file", e.Message);
    }

    [Fact]
    public void Should_ReadALegacyStorageViewAtItsOffset()
    {
        // torch < 0.4 could save a storage view: ('storage', type, root, loc, root_numel, (view_key, offset, size)).
        var data = new byte[16];
        for (int i = 0; i < 4; i++) BitConverter.GetBytes(i + 1f).CopyTo(data, 4 * i);
        var b = new PickleBuilder().Proto().Global("torch._utils", "_rebuild_tensor").Mark();
        b.Mark().Str("storage").Global("torch", "FloatStorage").Str("root").Str("cpu").Long(4);
        b.Str("view").Long(1).Long(2).Raw(0x87).Tuple().Raw((byte)'Q');
        b.Long(0).Long(2).Raw(0x85).Long(1).Raw(0x85).Tuple().Reduce().Stop();
        var t = Assert.IsType<Torch.TorchTensor>(Ckpt.Parse(PickleBuilder.Legacy(b.ToArray(), ("root", 4, data)), "view.pth").Root);
        Assert.Equal(new[] { 2f, 3f }, t.Value.ToArray());
    }
}
