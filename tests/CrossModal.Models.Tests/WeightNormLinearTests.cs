using CrossModal.Models.Encoders;
using CrossModal.Tensors;
using CrossModal.Tests;

namespace CrossModal.Models.Tests;

public class WeightNormLinearTests
{
    [Fact]
    public void Should_StartEqualToItsDirection_AndScaleWithG()
    {
        var layer = new WeightNormLinear(4, 3, new Rng(1));
        Assert.Equal(0, layer.WeightG.Rank); // weight_norm(dim=None): a scalar g
        var w = layer.Weight().ToArray();
        var v = layer.WeightV.ToArray();
        for (int i = 0; i < w.Length; i++) Assert.Equal(v[i], w[i], 5);
        layer.WeightG.Data[0] *= 2;
        w = layer.Weight().ToArray();
        for (int i = 0; i < w.Length; i++) Assert.Equal(2 * v[i], w[i], 5);
        CrossModal.Tensors.Autograd.Tape.Clear();
    }

    [Fact]
    public void Should_MatchFiniteDifferences()
    {
        var layer = new WeightNormLinear(4, 3, new Rng(2));
        var x = GradCheck.Random(new Rng(3), 2, 4);
        GradCheck.Check(t => layer.Forward(t[0]), x, layer.WeightG, layer.WeightV, layer.Bias);
    }

    [Fact]
    public void Should_NameParameters_LikeTorchWeightNorm()
    {
        var enc = new ImageEncoderPrecomp(4, 3, new Rng(4), noImgNorm: false, eps: 1e-8f, poolRegions: false, weightNorm: true);
        Assert.Equal(new[] { "fc.weight_g", "fc.weight_v", "fc.bias" }, enc.StateDict().Select(p => p.Name));
    }
}
