using CrossModal.Models.Acmr;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tests;

namespace CrossModal.Models.Tests.Category;

/// <summary>
/// The loss terms of the adversarial category models against hand-computed values (the PyTorch functions they
/// stand for: mse-style pair distance, cross_entropy, binary_cross_entropy_with_logits) and finite differences.
/// </summary>
public class CategoryLossesTests
{
    [Fact]
    public void Should_ComputeThePairDistance_ByHand()
    {
        var a = Tensor.FromArray([1f, 2f, 0f, 0f], 2, 2);
        var b = Tensor.FromArray([0f, 0f, 3f, 4f], 2, 2);
        // rows: (1^2 + 2^2) = 5 and (3^2 + 4^2) = 25; mean over the 2 pairs = 15
        Assert.Equal(15f, CategoryLosses.PairDistance(a, b).ToScalar(), 5);
        Tape.Clear();
    }

    [Fact]
    public void Should_ComputeTheCrossEntropy_ByHand()
    {
        // row 0: logits (0, ln 3) -> p(class 1) = 3/4; row 1: (ln 2, 0, 0) -> p(class 0) = 2/4
        var logits = Tensor.FromArray([0f, MathF.Log(3f), -1e9f, MathF.Log(2f), 0f, 0f], 2, 3);
        float expected = (float)((-Math.Log(0.75) - Math.Log(0.5)) / 2);
        Assert.Equal(expected, CategoryLosses.CrossEntropy(logits, [1, 0]).ToScalar(), 5);
        Tape.Clear();
    }

    [Fact]
    public void Should_ComputeTheSigmoidCrossEntropy_ByHand_EvenForHugeLogits()
    {
        var z = Tensor.FromArray([0f, 2f, -3f], 3, 1);
        // target 1: log(1 + e^-z); target 0: log(1 + e^z)
        double one = (Math.Log(2) + Math.Log(1 + Math.Exp(-2)) + Math.Log(1 + Math.Exp(3))) / 3;
        double zero = (Math.Log(2) + Math.Log(1 + Math.Exp(2)) + Math.Log(1 + Math.Exp(-3))) / 3;
        Assert.Equal(one, CategoryLosses.SigmoidCrossEntropy(z, 1f).ToScalar(), 5);
        Assert.Equal(zero, CategoryLosses.SigmoidCrossEntropy(z, 0f).ToScalar(), 5);
        // a confident wrong discriminator: the loss is the logit itself, not Inf
        var huge = Tensor.FromArray([200f], 1, 1);
        Assert.Equal(200f, CategoryLosses.SigmoidCrossEntropy(huge, 0f).ToScalar(), 3);
        Assert.Equal(0f, CategoryLosses.SigmoidCrossEntropy(huge, 1f).ToScalar(), 5);
        Tape.Clear();
    }

    [Fact]
    public void Should_RejectALabelOutsideTheClasses()
    {
        var logits = Tensor.Zeros(2, 3);
        var e = Assert.Throws<ArgumentException>(() => CategoryLosses.CrossEntropy(logits, [0, 3]));
        Assert.Contains("Label 3 of row 1 is outside the 3 classes", e.Message);
        Assert.Throws<ArgumentException>(() => CategoryLosses.CrossEntropy(logits, [0]));
        Tape.Clear();
    }

    [Fact]
    public void Should_MatchFiniteDifferences_PairDistance() =>
        GradCheck.Check(t => CategoryLosses.PairDistance(t[0], t[1]), GradCheck.Random(new Rng(1), 3, 4), GradCheck.Random(new Rng(2), 3, 4));

    [Fact]
    public void Should_MatchFiniteDifferences_CrossEntropy() =>
        GradCheck.Check(t => CategoryLosses.CrossEntropy(t[0], [2, 0, 1, 2]), GradCheck.Random(new Rng(3), 4, 3));

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    public void Should_MatchFiniteDifferences_SigmoidCrossEntropy(float target) =>
        GradCheck.Check(t => CategoryLosses.SigmoidCrossEntropy(Ops.MulScalar(t[0], 3f), target), GradCheck.Random(new Rng(4), 5, 1));
}
