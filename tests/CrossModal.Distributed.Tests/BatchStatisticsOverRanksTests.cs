using CrossModal.Distributed.InProcess;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;

namespace CrossModal.Distributed.Tests;

/// <summary>
/// Synchronised BatchNorm (ranks as threads, each holding rows r, r + N, ... of the batch, as training batches are
/// dealt) against one BatchNorm over the whole batch: the outputs, the running statistics (mean and unbiased variance
/// of the whole batch), the input's gradient and the sum over the ranks of the weight's and bias's gradients agree to
/// float rounding, on [rows, C] and on [rows, C, L]; a rank may hold a single row (its own variance is undefined). A
/// BatchNorm without the reducer normalises its rows alone and lands far away (the control).
/// </summary>
public class BatchStatisticsOverRanksTests
{
    private const int C = 5;

    private sealed record Outcome(float[] Y, float[] Dx, float[] Dw, float[] Db, float[] RunningMean, float[] RunningVar);

    private static BatchNorm1d Layer()
    {
        var bn = new BatchNorm1d(C);
        new Rng(20).Uniform(bn.Weight.Data, 0.5f, 1.5f);
        new Rng(21).Uniform(bn.Bias.Data, -1, 1);
        new Rng(22).Uniform(bn.RunningMean.Data, -1, 1);
        new Rng(23).Uniform(bn.RunningVar.Data, 0.5f, 2f);
        return bn;
    }

    private static (float[] X, float[] G) Batch(int rows, int l)
    {
        var x = new float[rows * C * l];
        var g = new float[rows * C * l];
        new Rng(24).Uniform(x, -2, 3);
        new Rng(25).Uniform(g, -1, 1);
        return (x, g);
    }

    private static int[] Shape(int rows, int l) => l == 1 ? new[] { rows, C } : new[] { rows, C, l };

    /// <summary>Forward and backward of Σ y·g over <paramref name="rows"/> of the batch.</summary>
    private static Outcome Run(float[] x, float[] g, int[] rows, int l, IBatchReducer? reducer)
    {
        int row = C * l;
        var xs = Tensor.Zeros(Shape(rows.Length, l));
        var gs = Tensor.Zeros(Shape(rows.Length, l));
        for (int k = 0; k < rows.Length; k++)
        {
            x.AsSpan(rows[k] * row, row).CopyTo(xs.Data.Slice(k * row, row));
            g.AsSpan(rows[k] * row, row).CopyTo(gs.Data.Slice(k * row, row));
        }
        xs.RequiresGrad = true;
        var bn = Layer();
        bn.CrossBatch = reducer;
        var y = bn.Forward(xs);
        Tape.Backward(Ops.SumAll(Ops.Mul(y, gs)));
        return new Outcome(y.ToArray(), xs.Grad!.ToArray(), bn.Weight.Grad!.ToArray(), bn.Bias.Grad!.ToArray(), bn.RunningMean.ToArray(), bn.RunningVar.ToArray());
    }

    private static int[] RowsOf(int rank, int ranks, int rows) => Enumerable.Range(0, rows).Where(j => j % ranks == rank).ToArray();

    private static Outcome[] OnRanks(float[] x, float[] g, int rows, int l, int ranks, bool synchronised)
    {
        var outcomes = new Outcome[ranks];
        InProcessWorld.RunAll(ranks, c =>
            outcomes[c.Rank] = Run(x, g, RowsOf(c.Rank, ranks, rows), l, synchronised ? new BatchStatisticsOverRanks(c) : null));
        return outcomes;
    }

    private static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"{what}[{i}]: {actual[i]:R}, one batch {expected[i]:R}");
    }

    [Theory]
    [InlineData(7, 1, 3)]
    [InlineData(5, 1, 4)]
    [InlineData(7, 3, 2)]
    [InlineData(5, 2, 4)]
    public void Should_NormaliseLikeOneBatchNormOverTheWholeBatch(int rows, int l, int ranks)
    {
        var (x, g) = Batch(rows, l);
        var one = Run(x, g, Enumerable.Range(0, rows).ToArray(), l, null);
        var parts = OnRanks(x, g, rows, l, ranks, synchronised: true);
        int row = C * l;
        var dw = new float[C];
        var db = new float[C];
        for (int r = 0; r < ranks; r++)
        {
            var mine = RowsOf(r, ranks, rows);
            for (int k = 0; k < mine.Length; k++)
            {
                Close(one.Y.AsSpan(mine[k] * row, row), parts[r].Y.AsSpan(k * row, row), $"rank {r} y row {mine[k]}");
                Close(one.Dx.AsSpan(mine[k] * row, row), parts[r].Dx.AsSpan(k * row, row), $"rank {r} dx row {mine[k]}");
            }
            for (int ch = 0; ch < C; ch++)
            {
                dw[ch] += parts[r].Dw[ch];
                db[ch] += parts[r].Db[ch];
            }
            // Every rank keeps the same running statistics, bit for bit, those of the whole batch.
            Assert.Equal(parts[0].RunningMean, parts[r].RunningMean);
            Assert.Equal(parts[0].RunningVar, parts[r].RunningVar);
            Close(one.RunningMean, parts[r].RunningMean, $"rank {r} running mean");
            Close(one.RunningVar, parts[r].RunningVar, $"rank {r} running var");
        }
        Close(one.Dw, dw, "Σ dweight");
        Close(one.Db, db, "Σ dbias");
    }

    [Fact]
    public void Should_DifferFromTheWholeBatch_WithoutTheReducer()
    {
        var (x, g) = Batch(8, 1);
        var one = Run(x, g, Enumerable.Range(0, 8).ToArray(), 1, null);
        var parts = OnRanks(x, g, 8, 1, 2, synchronised: false);
        double d = 0;
        for (int ch = 0; ch < C; ch++) d = Math.Max(d, Math.Abs(parts[0].RunningVar[ch] - one.RunningVar[ch]));
        Assert.True(d > 1e-3, $"the running variances of rank 0's rows differ from the batch's by only {d:E2}");
    }
}
