using CrossModal.Distributed.InProcess;
using CrossModal.Tensors;

namespace CrossModal.Distributed.Tests;

/// <summary>The bucketed gradient all-reduce: sums, bucket boundaries, in-place large tensors, missing gradients.</summary>
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
}
