using CrossModal.Checkpoints.Python;
using CrossModal.Checkpoints.Tests.Support;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// The tensor zoo (strided, offset, shared, stride-0 and every supported dtype, plus Python values) loads as
/// PyTorch described it, in the zip format with pickle protocols 2, 4 and 5 and in the legacy format.
/// </summary>
public sealed class TensorZooTests
{
    public static TheoryData<string> Files => CheckpointManifest.TensorFiles();

    [Theory]
    [MemberData(nameof(Files))]
    public void Should_ReproduceEveryValueOfTheZoo(string file)
    {
        var ckpt = Ckpt.Load(CheckpointManifest.PathOf(file));
        PyExpect.Matches(CheckpointManifest.Root.GetProperty("tensors").GetProperty("value"), ckpt.Root);
    }

    [Fact]
    public void Should_MakeNonContiguousViewsContiguous()
    {
        // Hand-checked against the zoo's construction: transposed = base.t(), strided_slice = base[1:, ::2].
        var root = (PyDict)Ckpt.Load(CheckpointManifest.PathOf("tensors/tensors.legacy.pth.tar")).Root!;
        var tensors = (PyDict)root["tensors"]!;
        var b = ((Torch.TorchTensor)tensors["contiguous"]!).Value;
        var t = ((Torch.TorchTensor)tensors["transposed"]!).Value;
        var s = ((Torch.TorchTensor)tensors["strided_slice"]!).Value;
        Assert.Equal(new[] { 6, 4 }, t.Shape);
        Assert.Equal(new[] { 3, 3 }, s.Shape);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 6; j++)
                Assert.Equal(b[i, j], t[j, i]);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(b[i + 1, 2 * j], s[i, j]);
    }
}
