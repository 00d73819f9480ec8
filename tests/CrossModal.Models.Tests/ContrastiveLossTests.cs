using CrossModal.Models.Loss;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Models.Tests;

/// <summary>The hinge loss against PyTorch (tools/reference/loss_fixtures.py, the original VSE++ code's semantics).</summary>
public class ContrastiveLossTests
{
    [Theory]
    [InlineData("sh", false)]
    [InlineData("mh", true)]
    public void Should_MatchPyTorch_ValueAndGradient(string name, bool maxViolation)
    {
        var scores = Npy.ReadFloat32(TestData.Fixture("models", "loss_scores.npy"));
        scores.RequiresGrad = true;
        float expected = Npy.ReadFloat32(TestData.Fixture("models", $"loss_{name}_value.npy")).ToScalar();
        var expectedGrad = Npy.ReadFloat32(TestData.Fixture("models", $"loss_{name}_grad.npy")).ToArray();

        var loss = ContrastiveLoss.Compute(scores, 0.2f, maxViolation);
        Assert.Equal(expected, loss.ToScalar(), 1e-4f * Math.Abs(expected));
        Tape.Backward(loss);
        var grad = scores.Grad!.ToArray();
        for (int i = 0; i < grad.Length; i++) Assert.Equal(expectedGrad[i], grad[i]);
    }

    [Fact]
    public void Should_BeZero_WhenEveryPairBeatsTheMarginOfItsNegatives()
    {
        var s = Tensor.FromArray(new float[] { 1f, 0f, 0f, 1f }, 2, 2);
        Assert.Equal(0f, ContrastiveLoss.Compute(s, 0.2f, false).ToScalar());
        // Margin 0.2: every hinge is [0.2 + 0 - 1]+ = 0. Margin 1.5: each of the four off-diagonal hinges is
        // 1.5 + 0 - 1 = 0.5, so the sum of hinges is 4 x 0.5 = 2, and the max of hinges (one per row, one per
        // column) is also 2 x 0.5 + 2 x 0.5 = 2.
        Assert.Equal(2f, ContrastiveLoss.Compute(s, 1.5f, false).ToScalar(), 6);
        Assert.Equal(2f, ContrastiveLoss.Compute(s, 1.5f, true).ToScalar(), 6);
    }
}
