using CrossModal.Tensors.Nn;

using CrossModal.Tests;

namespace CrossModal.Tensors.Tests.Nn;

public class LayerTests
{
    [Fact]
    public void Should_DifferentiateLinear_AndInitialiseLikePyTorch()
    {
        var lin = new Linear(4, 3, new Rng(1));
        float bound = 0.5f; // 1/sqrt(4)
        Assert.All(lin.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.All(lin.Bias!.ToArray(), v => Assert.InRange(v, -bound, bound));
        var x = GradCheck.Random(new Rng(2), 2, 4);
        GradCheck.Check(t => lin.Forward(t[0]), x, lin.Weight, lin.Bias);
    }

    [Fact]
    public void Should_DifferentiateLinearWithoutBias()
    {
        var lin = new Linear(3, 2, new Rng(11), bias: false);
        Assert.Null(lin.Bias);
        GradCheck.Check(t => lin.Forward(t[0]), GradCheck.Random(new Rng(12), 2, 2, 3), lin.Weight);
    }

    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 2)]
    [InlineData(true, 3)]
    [InlineData(false, 3)]
    public void Should_DifferentiateBatchNorm(bool training, int rank)
    {
        var bn = new BatchNorm1d(3);
        new Rng(3).Uniform(bn.Weight.Data, 0.5f, 1.5f);
        new Rng(4).Uniform(bn.Bias.Data, -1, 1);
        new Rng(5).Uniform(bn.RunningMean.Data, -1, 1);
        new Rng(6).Uniform(bn.RunningVar.Data, 0.5f, 2f);
        bn.Train(training);
        var x = rank == 2 ? GradCheck.Random(new Rng(7), 5, 3) : GradCheck.Random(new Rng(7), 4, 3, 2);
        GradCheck.Check(t => bn.Forward(t[0]), x, bn.Weight, bn.Bias);
    }

    [Fact]
    public void Should_UpdateRunningStatistics_WithMomentum()
    {
        var bn = new BatchNorm1d(1);
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 6 }, 4, 1);
        var y = bn.Forward(x);
        // mean 3, biased var 3.5, unbiased var 14/3
        Assert.Equal(0.3f, bn.RunningMean[0], 6);
        Assert.Equal(0.9f + 0.1f * 14f / 3f, bn.RunningVar[0], 5);
        Assert.Equal(1f, bn.NumBatchesTracked.ToScalar());
        Assert.Equal((1 - 3) / MathF.Sqrt(3.5f + 1e-5f), y[0], 5);
        bn.Eval();
        var e = bn.Forward(x);
        Assert.Equal((1 - 0.3f) / MathF.Sqrt(bn.RunningVar[0] + 1e-5f), e[0], 5);
    }

    [Fact]
    public void Should_DifferentiateConv1d_AsPerPositionLinear()
    {
        var conv = new Conv1d(3, 2, new Rng(8));
        var x = GradCheck.Random(new Rng(9), 2, 3, 4);
        GradCheck.Check(t => conv.Forward(t[0]), x, conv.Weight, conv.Bias!);
        var y = conv.Forward(x);
        double expected = conv.Bias![1];
        for (int i = 0; i < 3; i++) expected += conv.Weight[1, i, 0] * x[1, i, 2];
        Assert.Equal(expected, y[1, 1, 2], 5);
        Autograd.Tape.Clear();
    }

    [Fact]
    public void Should_ApplyConv1dOnRows_AsForwardOnTheTransposedLayout()
    {
        // ForwardRows on [B, L, in] must give Forward on [B, in, L] transposed, and differentiate.
        var conv = new Conv1d(3, 2, new Rng(15));
        var x = GradCheck.Random(new Rng(16), 2, 4, 3);
        var y = conv.ForwardRows(x);
        var reference = conv.Forward(Ops.Permute(x, 0, 2, 1));
        Assert.Equal(new[] { 2, 4, 2 }, y.Shape);
        for (int b = 0; b < 2; b++)
            for (int l = 0; l < 4; l++)
                for (int o = 0; o < 2; o++)
                    Assert.Equal(reference[b, o, l], y[b, l, o], 6);
        Autograd.Tape.Clear();
        GradCheck.Check(t => conv.ForwardRows(t[0]), x, conv.Weight, conv.Bias!);
        Assert.Throws<ArgumentException>(() => conv.ForwardRows(Tensor.Zeros(2, 4, 2)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Should_NormaliseManyRowsAndChannels_AsTheDefinition(bool training)
    {
        // [N, C] with N > 64 (several row blocks) and C > 256 (several channel chunks across threads): every output
        // against the definition in double, and the running statistics.
        int n = 150, c = 300;
        var bn = new BatchNorm1d(c);
        new Rng(20).Uniform(bn.Weight.Data, 0.5f, 1.5f);
        new Rng(21).Uniform(bn.Bias.Data, -1, 1);
        new Rng(22).Uniform(bn.RunningMean.Data, -1, 1);
        new Rng(23).Uniform(bn.RunningVar.Data, 0.5f, 2f);
        var rm0 = bn.RunningMean.ToArray();
        var rv0 = bn.RunningVar.ToArray();
        bn.Train(training);
        var x = Tensor.Zeros(n, c);
        new Rng(24).Uniform(x.Data, -2, 3);
        var y = bn.Forward(x);
        for (int ch = 0; ch < c; ch++)
        {
            double mean = 0, sq = 0;
            for (int r = 0; r < n; r++) mean += x[r, ch];
            mean /= n;
            for (int r = 0; r < n; r++) sq += (x[r, ch] - mean) * (x[r, ch] - mean);
            double m = training ? mean : rm0[ch], v = training ? sq / n : rv0[ch];
            for (int r = 0; r < n; r++)
                Near((x[r, ch] - m) / Math.Sqrt(v + 1e-5) * bn.Weight[ch] + bn.Bias[ch], y[r, ch]);
            if (training)
            {
                Near(0.9 * rm0[ch] + 0.1 * mean, bn.RunningMean[ch]);
                Near(0.9 * rv0[ch] + 0.1 * sq / (n - 1), bn.RunningVar[ch]);
            }
        }
    }

    /// <summary>|actual − expected| ≤ 1e-5 (1 + |expected|): float32 rounding of values of order 1.</summary>
    private static void Near(double expected, float actual) =>
        Assert.True(Math.Abs(actual - expected) <= 1e-5 * (1 + Math.Abs(expected)), $"expected {expected:G9}, got {actual:G9}");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Should_DifferentiateBatchNorm_OverSeveralRowBlocksAndChannelChunks(bool training)
    {
        var bn = new BatchNorm1d(260);
        new Rng(25).Uniform(bn.Weight.Data, 0.5f, 1.5f);
        new Rng(26).Uniform(bn.Bias.Data, -1, 1);
        bn.Train(training);
        GradCheck.CheckSampled(t => bn.Forward(t[0]), 40, GradCheck.Random(new Rng(27), 70, 260), bn.Weight, bn.Bias);
    }

    [Fact]
    public void Should_DifferentiateConv1dWithoutBias()
    {
        var conv = new Conv1d(2, 3, new Rng(13), bias: false);
        GradCheck.Check(t => conv.Forward(t[0]), GradCheck.Random(new Rng(14), 2, 2, 3), conv.Weight);
    }

    [Fact]
    public void Should_DifferentiateEmbedding_WithRepeatedIds()
    {
        var emb = new Embedding(5, 3, new Rng(15));
        int[] ids = { 4, 1, 4, 4, 0, 1 };
        GradCheck.Check(_ => emb.Forward(ids, 3, 2), emb.Weight);
    }

    /// <summary>A layer built per call with the same seed draws the same mask, so finite differences apply.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Should_DifferentiateDropoutLayer(bool training)
    {
        var x = GradCheck.Random(new Rng(16), 4, 6);
        GradCheck.Check(t =>
        {
            var drop = new Dropout(0.4f, new Rng(17));
            drop.Train(training);
            return drop.Forward(t[0]);
        }, x);
    }

    [Fact]
    public void Should_LoadStateDict_AndNameMissingEntries()
    {
        var a = new Linear(2, 2, new Rng(1));
        var b = new Linear(2, 2, new Rng(2));
        b.LoadStateDict(a.StateDict().ToDictionary(p => p.Name, p => p.Tensor));
        Assert.Equal(a.Weight.ToArray(), b.Weight.ToArray());
        var e = Assert.Throws<InvalidDataException>(() => b.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = Tensor.Zeros(2, 2) }));
        Assert.Contains("bias", e.Message);
        var s = Assert.Throws<InvalidDataException>(() => b.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = Tensor.Zeros(3, 2), ["bias"] = Tensor.Zeros(2) }));
        Assert.Contains("'weight' has shape [3, 2]", s.Message);
    }
}
