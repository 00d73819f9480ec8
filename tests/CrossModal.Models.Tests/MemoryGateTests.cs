using CrossModal.Models.Attention;
using CrossModal.Models.Imram;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Models.Tests;

/// <summary>
/// IMRAM's memory gate against finite differences (GradCheck's central differences in float32) and a hand-computed
/// value, and the whole K-step score's gradients w.r.t. the embeddings against finite differences.
/// </summary>
public class MemoryGateTests
{
    /// <summary>q' = gate(q, [W_l z + b_l | W_g z + b_g]), z = [q; c], as a differentiable op over tensors.</summary>
    private static Tensor Gate(Tensor q, Tensor c, Tensor wl, Tensor bl, Tensor wg, Tensor bg, bool normalize)
    {
        int n = q.Dim(0), d = q.Dim(1);
        var z = Ops.Concat([q, c], 1);
        var pre = Ops.Concat([Ops.Linear(z, wl, bl), Ops.Linear(z, wg, bg)], 1);
        var norms = new float[n];
        var hOnly = new float[n * d];
        var gOnly = new float[n * d];
        var output = Tensor.Zeros(n, d);
        MemoryGate.Forward(q.Data, pre.Data, n, d, hOnly, gOnly, output.Data, normalize, norms);
        if (!Tape.Enabled || !(q.RequiresGrad || pre.RequiresGrad)) return output;
        Tape.Record(output, dy =>
        {
            var du = dy.Data.ToArray();
            var dPre = new float[n * 2 * d];
            var dq = new float[n * d];
            MemoryGate.Backward(q.Data, hOnly, gOnly, output.Data, normalize, norms, n, d, du, dPre, dq);
            if (q.RequiresGrad) q.AccumulateGrad(dq);
            if (pre.RequiresGrad) pre.AccumulateGrad(dPre);
        });
        return output;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_MatchFiniteDifferences_WithAndWithoutImramNorm(bool normalize)
    {
        var rng = new Rng(7);
        int n = 3, d = 4;
        var inputs = new[]
        {
            GradCheck.Random(rng, n, d), GradCheck.Random(rng, n, d),
            GradCheck.Random(rng, d, 2 * d), GradCheck.Random(rng, d), GradCheck.Random(rng, d, 2 * d), GradCheck.Random(rng, d),
        };
        GradCheck.Check(x => Gate(x[0], x[1], x[2], x[3], x[4], x[5], normalize), inputs);
    }

    [Fact]
    public void Should_ComputeTheGatedUpdateByHand()
    {
        // d = 1: pre_l = 0.5, pre_g = 0 -> h = tanh(0.5), g = 0.5; q = 2 -> q' = 2 * 0.5 + tanh(0.5) * 0.5.
        var outp = new float[1];
        MemoryGate.Forward([2f], [0.5f, 0f], 1, 1, new float[1], new float[1], outp, normalize: false, new float[1]);
        Assert.Equal(1f + MathF.Tanh(0.5f) * 0.5f, outp[0], 6);
        MemoryGate.Forward([2f], [0.5f, 0f], 1, 1, new float[1], new float[1], outp, normalize: true, new float[1]);
        Assert.Equal(1f, outp[0], 6);
    }

    [Theory]
    [InlineData(ImramMode.FullImram, 3, false)]
    [InlineData(ImramMode.FullImram, 2, true)]
    [InlineData(ImramMode.TextImram, 3, true)]
    [InlineData(ImramMode.ImageImram, 3, false)]
    public void Should_MatchFiniteDifferences_OfTheScores(ImramMode mode, int k, bool normalize)
    {
        var inputs = Safetensors.Read(TestData.Fixture("imram", "inputs.safetensors"));
        var gates = ImramParityTests.Gates(inputs);
        // Random but non-degenerate embeddings of the fixture's shapes, scaled so that λ-softmax is not saturated.
        var rng = new Rng(3);
        var images = GradCheck.Random(rng, 3, 5, 8);
        var captions = GradCheck.Random(rng, 4, 6, 8);
        int[] lengths = [4, 1, 6, 2];
        var options = new ImramOptions(mode, k, 4f, RawFeatureNorm.ClippedL2Norm, normalize);
        GradCheck.CheckSampled(x => ImramAttention.Scores(x[0], x[1], lengths, options, gates), 40, images, captions);
    }
}
