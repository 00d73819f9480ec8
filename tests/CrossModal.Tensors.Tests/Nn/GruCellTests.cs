using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;
using CrossModal.Tensors.Threading;

using CrossModal.Tests;

namespace CrossModal.Tensors.Tests.Nn;

/// <summary>
/// The single-step GRU cell against the sequence GRU (the same weights under the same "_l0" names, stepped one time
/// step at a time must reproduce every output of the fused sequence kernel) and against finite differences.
/// </summary>
[Trait("Category", "Kernel")]
[Collection(CrossModal.Tests.ThreadCountCollection.Name)]
public class GruCellTests
{
    [Theory]
    [InlineData(3, 4, 6)]   // one chunk of rows
    [InlineData(40, 5, 90)] // rows split across threads; H = 90 runs the 16-, 8-wide and scalar gate loops
    public void Should_ReproduceTheSequenceGru_StepByStep(int b, int inSize, int h)
    {
        int keep = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 2;
            int t = 4;
            var gru = new Gru(inSize, h, new Rng(1));
            var cell = new GruCell(inSize, h, new Rng(2), suffix: "_l0");
            cell.LoadStateDict(gru.StateDict().ToDictionary(p => p.Name, p => p.Tensor));
            var x = Tensor.Zeros(b, t, inSize);
            new Rng(3).Uniform(x.Data, -1, 1);
            var lengths = Enumerable.Repeat(t, b).ToArray();
            using var noGrad = Tape.NoGrad();
            var (output, _) = gru.Forward(x, lengths);
            var state = Tensor.Zeros(b, h);
            for (int s = 0; s < t; s++)
            {
                var xs = Tensor.Zeros(b, inSize);
                for (int r = 0; r < b; r++) x.Data.Slice((r * t + s) * inSize, inSize).CopyTo(xs.Data.Slice(r * inSize, inSize));
                state = cell.Forward(xs, state);
                for (int r = 0; r < b; r++)
                    for (int j = 0; j < h; j++)
                        Assert.Equal(output[r, s, j], state[r, j], 5);
            }
        }
        finally { Parallelism.Threads = keep; }
    }

    [Fact]
    public void Should_MatchFiniteDifferences_InInputStateAndParameters()
    {
        var cell = new GruCell(3, 4, new Rng(5));
        Assert.Equal(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], cell.StateDict().Select(p => p.Name));
        var x = GradCheck.Random(new Rng(6), 5, 3);
        var h = GradCheck.Random(new Rng(7), 5, 4);
        var inputs = new List<Tensor> { x, h };
        inputs.AddRange(cell.Parameters());
        // Two steps, so the state gradient also flows through a cell's own output.
        GradCheck.Check(v => cell.Forward(v[0], cell.Forward(v[0], v[1])), inputs.ToArray());
    }

    [Fact]
    public void Should_MatchFiniteDifferences_WithRowsSplitAcrossThreads()
    {
        int keep = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 2;
            var cell = new GruCell(5, 90, new Rng(8));
            var inputs = new List<Tensor> { GradCheck.Random(new Rng(9), 40, 5), GradCheck.Random(new Rng(10), 40, 90) };
            inputs.AddRange(cell.Parameters());
            GradCheck.CheckSampled(v => cell.Forward(v[0], v[1]), 12, inputs.ToArray());
        }
        finally { Parallelism.Threads = keep; }
    }
}
