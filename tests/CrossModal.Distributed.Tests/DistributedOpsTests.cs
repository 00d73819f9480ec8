using CrossModal.Distributed.Autograd;
using CrossModal.Distributed.InProcess;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Distributed.Tests;

/// <summary>
/// The differentiable gathers: forward against the global tensor written by hand, backward against the gradient each
/// convention defines (own rows of a replicated gradient; the sum over ranks of partial gradients), and the adjoint
/// identity that makes the per-rank gradient a reduce-scatter.
/// </summary>
public class DistributedOpsTests
{
    // Five global rows dealt round-robin to three ranks (as training batches are): rank 0 holds rows 0 and 3, rank 1
    // rows 1 and 4, rank 2 row 2. Row j is valid for Lengths[j] positions (captions sorted by length).
    private static readonly int[] Lengths = { 4, 3, 3, 2, 1 };
    private static readonly int[][] Rows = { new[] { 0, 3 }, new[] { 1, 4 }, new[] { 2 } };
    private const int D = 2;

    private static float Value(int row, int position, int k) => 100 * row + 10 * position + k;

    /// <summary>Rank r's local tensor [b, t, D]: valid positions hold Value, padding holds NaN (which must never travel).</summary>
    private static Tensor Local(int rank)
    {
        var rows = Rows[rank];
        int t = rows.Max(j => Lengths[j]);
        var x = Tensor.Full(float.NaN, rows.Length, t, D);
        for (int k = 0; k < rows.Length; k++)
            for (int p = 0; p < Lengths[rows[k]]; p++)
                for (int e = 0; e < D; e++) x[k, p, e] = Value(rows[k], p, e);
        x.RequiresGrad = true;
        return x;
    }

    private static Tensor GlobalSeed(float scale)
    {
        var g = Tensor.Zeros(5, 4, D);
        for (int i = 0; i < g.Length; i++) g[i] = scale * (i + 1);
        return g;
    }

    [Fact]
    public void Should_GatherTheValidRowsIntoTheGlobalOrder_PaddedWithZeros()
    {
        InProcessWorld.RunAll(3, c =>
        {
            var y = DistributedOps.AllGatherRows(c, Local(c.Rank), new RowLayout(Rows, 5, Lengths), GatheredUse.Replicated);
            Assert.Equal(new[] { 5, 4, D }, y.Shape);
            for (int j = 0; j < 5; j++)
                for (int p = 0; p < 4; p++)
                    for (int e = 0; e < D; e++)
                        Assert.Equal(p < Lengths[j] ? Value(j, p, e) : 0f, y[j, p, e]);
        });
    }

    [Fact]
    public void Should_KeepItsOwnRows_OfAReplicatedGradient()
    {
        InProcessWorld.RunAll(3, c =>
        {
            var x = Local(c.Rank);
            var y = DistributedOps.AllGatherRows(c, x, new RowLayout(Rows, 5, Lengths), GatheredUse.Replicated);
            var seed = GlobalSeed(1f);
            Tape.Backward(y, seed);
            var rows = Rows[c.Rank];
            for (int k = 0; k < rows.Length; k++)
                for (int p = 0; p < x.Dim(1); p++)
                    for (int e = 0; e < D; e++)
                        Assert.Equal(p < Lengths[rows[k]] ? seed[rows[k], p, e] : 0f, x.Grad![k, p, e]);
        });
    }

    [Fact]
    public void Should_SumThePartialGradientsOfAllRanks_WhenEachRankUsesTheGatherForItsOwnWork()
    {
        // Rank r's partial gradient is (r + 1) x the seed; the row's owner receives the sum, (1 + 2 + 3) x the seed.
        InProcessWorld.RunAll(3, c =>
        {
            var x = Local(c.Rank);
            var y = DistributedOps.AllGatherRows(c, x, new RowLayout(Rows, 5, Lengths), GatheredUse.PerRank);
            Tape.Backward(y, GlobalSeed(c.Rank + 1));
            var total = GlobalSeed(6f);
            var rows = Rows[c.Rank];
            for (int k = 0; k < rows.Length; k++)
                for (int p = 0; p < x.Dim(1); p++)
                    for (int e = 0; e < D; e++)
                        Assert.Equal(p < Lengths[rows[k]] ? total[rows[k], p, e] : 0f, x.Grad![k, p, e]);
            Assert.Equal(1, c.Stats.Calls(CollectiveKind.ReduceScatter));
        });
    }

    [Fact]
    public void Should_BeTheAdjointOfTheGather_ForRandomRowsWithoutLengths()
    {
        // <Σ_r y_r, gather(x)> = Σ_r <x_r, grad_r>: the backward is the transpose of the forward's linear map.
        var lhs = new double[2];
        var rhs = new double[2];
        InProcessWorld.RunAll(2, c =>
        {
            var rows = new[] { new[] { 2, 0, 5 }, new[] { 1, 4, 3 } };
            var rng = new Rng((ulong)(10 + c.Rank));
            var x = Tensor.Zeros(3, 7);
            rng.Uniform(x.Data, -1f, 1f);
            x.RequiresGrad = true;
            var y = DistributedOps.AllGatherRows(c, x, new RowLayout(rows, 6), GatheredUse.PerRank);
            var seed = Tensor.Zeros(6, 7);
            rng.Uniform(seed.Data, -1f, 1f);
            double dot = 0;
            for (int i = 0; i < y.Length; i++) dot += (double)y[i] * seed[i];
            Tape.Backward(y, seed);
            double back = 0;
            for (int i = 0; i < x.Length; i++) back += (double)x[i] * x.Grad![i];
            lhs[c.Rank] = dot;
            rhs[c.Rank] = back;
        });
        Assert.Equal(lhs.Sum(), rhs.Sum(), 5);
    }

    [Fact]
    public void Should_SumOverRanks_AndPassTheGradientToEachPartialSum()
    {
        InProcessWorld.RunAll(3, c =>
        {
            var x = Tensor.FromArray(new[] { c.Rank + 1f, 10f * c.Rank }, 2);
            x.RequiresGrad = true;
            var y = DistributedOps.SumOverRanks(c, x);
            Assert.Equal(new[] { 6f, 30f }, y.ToArray());
            Tape.Backward(y, Tensor.FromArray(new[] { 0.5f, -2f }, 2));
            Assert.Equal(new[] { 0.5f, -2f }, x.Grad!.ToArray());
        });
    }

    [Fact]
    public void Should_RefuseALayoutThatDoesNotCoverEveryRowOnce()
    {
        Assert.Contains("held by two ranks", Assert.Throws<ArgumentException>(() => new RowLayout(new[] { new[] { 0, 1 }, new[] { 1 } }, 2)).Message);
        Assert.Contains("hold 2 of 3 rows", Assert.Throws<ArgumentException>(() => new RowLayout(new[] { new[] { 0 }, new[] { 1 } }, 3)).Message);
    }
}
