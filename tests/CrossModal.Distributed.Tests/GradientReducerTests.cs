using CrossModal.Distributed.InProcess;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;

namespace CrossModal.Distributed.Tests;

/// <summary>The bucketed gradient all-reduce: sums, bucket boundaries, in-place large tensors, missing gradients, overlap with the backward.</summary>
public class GradientReducerTests
{
    [Theory]
    [InlineData(1L << 30)] // one bucket for everything
    [InlineData(40)]       // 10 floats a bucket: several buckets, and the 30-float tensor alone, reduced in place
    [InlineData(4)]        // one tensor per bucket
    public void Should_SumEveryGradientOverTheRanks(long bucketBytes)
    {
        int[] sizes = { 3, 30, 1, 7, 12 };
        InProcessWorld.RunAll(3, c =>
        {
            var parameters = sizes.Select(n => Tensor.Parameter(new float[n], new[] { n })).ToList();
            for (int p = 0; p < parameters.Count; p++)
            {
                // Parameter 2 has a gradient on rank 1 only; parameter 4 on no rank.
                if (p == 4 || (p == 2 && c.Rank != 1)) continue;
                var g = new float[sizes[p]];
                for (int i = 0; i < g.Length; i++) g[i] = (c.Rank + 1) * (p * 100 + i);
                parameters[p].AccumulateGrad(g);
            }
            var reducer = new GradientReducer(parameters, bucketBytes);
            reducer.AllReduce(c);
            for (int p = 0; p < 4; p++)
            {
                float factor = p == 2 ? 2 : 6; // rank 1 alone contributes 2x; all ranks 1 + 2 + 3
                Assert.Equal(Enumerable.Range(0, sizes[p]).Select(i => factor * (p * 100 + i)).ToArray(), parameters[p].Grad!.ToArray());
            }
            Assert.Null(parameters[4].Grad);
            if (bucketBytes == 40) Assert.Equal(4, reducer.BucketCount); // [12, 7, 1] -> 12 alone, [7, 1], [30], [3]
        });
    }

    /// <summary>
    /// Overlapped with the backward, on 3 ranks as threads (where a started all-reduce completes at once, so a bucket
    /// started too early would miss the gradient still to come): first -> second -> second again -> third, the first
    /// two marking their forwards, third not. The buckets of first and second start during the backward (4 of 6), the
    /// rest at the end, and every gradient is bit-identical to the all-reduce after the backward. The control: marking
    /// only second's later call starts its buckets before its earlier call's gradient arrives, and the sums differ.
    /// </summary>
    [Fact]
    public void Should_StartEachBucketOnceItsModulesAreFinal_WithTheSameSums()
    {
        InProcessWorld.RunAll(3, c =>
        {
            var (atEnd, none) = MarkedStep(c, overlap: false, markEveryCall: true);
            var (overlapped, early) = MarkedStep(c, overlap: true, markEveryCall: true);
            Assert.Equal(0, none);
            Assert.Equal(4, early);
            for (int p = 0; p < atEnd.Length; p++) Assert.Equal(atEnd[p], overlapped[p]);
            var (premature, _) = MarkedStep(c, overlap: true, markEveryCall: false);
            Assert.NotEqual(atEnd[2], premature[2]); // second.weight
        });
    }

    /// <summary>One forward and backward of the four-layer chain on this rank's inputs, then the reducer's all-reduce.</summary>
    private static (float[][] Gradients, int StartedEarly) MarkedStep(ICommunicator c, bool overlap, bool markEveryCall)
    {
        var rng = new Rng(3); // the same weights on every rank
        var first = new Linear(4, 8, rng);
        var second = new Linear(8, 8, rng);
        var third = new Linear(8, 2, rng);
        var parameters = first.Parameters().Concat(second.Parameters()).Concat(third.Parameters()).ToList();
        // 10 floats a bucket: [third.bias], [third.weight], [second.bias], [second.weight], [first.bias], [first.weight].
        var reducer = new GradientReducer(parameters, bucketBytes: 40);
        Assert.Equal(6, reducer.BucketCount);
        var x = new float[3 * 4];
        new Rng(100 + (ulong)c.Rank).Uniform(x, -1f, 1f);
        using (overlap ? reducer.Overlap(c) : null)
        {
            first.MarkForward();
            var h = Ops.Tanh(first.Forward(Tensor.FromArray(x, 3, 4)));
            if (markEveryCall) second.MarkForward();
            h = Ops.Tanh(second.Forward(h));
            second.MarkForward();
            h = Ops.Tanh(second.Forward(h));
            var y = third.Forward(h);
            Tape.Backward(Ops.SumAll(Ops.Mul(y, y)));
            reducer.AllReduce(c);
        }
        Assert.Null(Tape.Listener);
        return (parameters.Select(p => p.Grad!.ToArray()).ToArray(), reducer.StartedEarly);
    }
}
