using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;
using CrossModal.Tensors.Threading;

using CrossModal.Tests;

namespace CrossModal.Tensors.Tests.Nn;

[Trait("Category", "Kernel")]
[Collection(CrossModal.Tests.ThreadCountCollection.Name)]
public class GruTests
{
    /// <summary>PyTorch's GRU equations for one sequence, written out with scalar loops (double precision).</summary>
    private static double[][] NaiveDirection(float[] x, int len, int inSize, int h, Tensor wih, Tensor whh, Tensor bih, Tensor bhh, bool reverse)
    {
        var states = new double[len][];
        var hp = new double[h];
        for (int s = 0; s < len; s++)
        {
            int t = reverse ? len - 1 - s : s;
            var hn = new double[h];
            for (int j = 0; j < h; j++)
            {
                double[] gi = new double[3], gh = new double[3];
                for (int g = 0; g < 3; g++)
                {
                    int row = g * h + j;
                    gi[g] = bih[row];
                    for (int i = 0; i < inSize; i++) gi[g] += wih[row, i] * x[t * inSize + i];
                    gh[g] = bhh[row];
                    for (int i = 0; i < h; i++) gh[g] += whh[row, i] * hp[i];
                }
                double r = 1 / (1 + Math.Exp(-(gi[0] + gh[0])));
                double z = 1 / (1 + Math.Exp(-(gi[1] + gh[1])));
                double n = Math.Tanh(gi[2] + r * gh[2]);
                hn[j] = (1 - z) * n + z * hp[j];
            }
            hp = hn;
            states[t] = hn;
        }
        return states;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_MatchNaiveEquations_WithPackedSemantics(bool bidirectional)
    {
        int b = 4, t = 5, inSize = 3, h = 6;
        var gru = new Gru(inSize, h, new Rng(1), bidirectional: bidirectional);
        var x = Tensor.Zeros(b, t, inSize);
        new Rng(2).Uniform(x.Data, -1, 1);
        int[] lengths = { 3, 5, 1, 4 }; // unsorted on purpose
        var (output, hidden) = gru.Forward(x, lengths);
        int d = bidirectional ? 2 : 1;
        Assert.Equal(new[] { b, t, d * h }, output.Shape);
        Assert.Equal(new[] { d, b, h }, hidden.Shape);
        var ps = gru.StateDict().ToDictionary(p => p.Name, p => p.Tensor);
        for (int bi = 0; bi < b; bi++)
        {
            var xs = x.Data.Slice(bi * t * inSize, t * inSize).ToArray();
            for (int dir = 0; dir < d; dir++)
            {
                string sfx = dir == 1 ? "_l0_reverse" : "_l0";
                var states = NaiveDirection(xs, lengths[bi], inSize, h, ps["weight_ih" + sfx], ps["weight_hh" + sfx], ps["bias_ih" + sfx], ps["bias_hh" + sfx], dir == 1);
                for (int ti = 0; ti < t; ti++)
                    for (int j = 0; j < h; j++)
                    {
                        double expected = ti < lengths[bi] ? states[ti][j] : 0.0;
                        Assert.Equal(expected, output[bi, ti, dir * h + j], 5);
                    }
                var last = dir == 0 ? states[lengths[bi] - 1] : states[0];
                for (int j = 0; j < h; j++) Assert.Equal(last[j], hidden[dir, bi, j], 5);
            }
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 2)]
    public void Should_MatchFiniteDifferences(bool bidirectional, int layers)
    {
        var gru = new Gru(3, 4, new Rng(3), numLayers: layers, bidirectional: bidirectional);
        var x = GradCheck.Random(new Rng(4), 3, 4, 3);
        int[] lengths = { 2, 4, 3 };
        var h0 = GradCheck.Random(new Rng(5), layers * (bidirectional ? 2 : 1), 3, 4);
        var inputs = new List<Tensor> { x, h0 };
        inputs.AddRange(gru.Parameters());
        // Both outputs feed the loss: the padded output and the final states.
        GradCheck.Check(t =>
        {
            var (o, hn) = gru.Forward(t[0], lengths, t[1]);
            return Ops.Concat(new[] { o.Reshape(-1), hn.Reshape(-1) }, 0);
        }, inputs.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_MatchFiniteDifferences_AtVectorWidthsAndSplitRows(bool bidirectional)
    {
        // H = 90 runs the 16-wide, 8-wide and scalar parts of the gate kernels and splits the bias sums (3H = 270
        // columns) across threads; 40 rows split the gate work across two threads (when the direction has the cores
        // to itself); lengths 1..3 leave different active prefixes.
        int keep = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 2;
            int b = 40, t = 3, inSize = 5, h = 90;
            var gru = new Gru(inSize, h, new Rng(21), bidirectional: bidirectional);
            var x = GradCheck.Random(new Rng(22), b, t, inSize);
            var lengths = Enumerable.Range(0, b).Select(i => 1 + i * 7 % 3).ToArray();
            var inputs = new List<Tensor> { x };
            inputs.AddRange(gru.Parameters());
            GradCheck.CheckSampled(v =>
            {
                var (o, hn) = gru.Forward(v[0], lengths);
                return Ops.Concat(new[] { o.Reshape(-1), hn.Reshape(-1) }, 0);
            }, 12, inputs.ToArray());
        }
        finally { Parallelism.Threads = keep; }
    }

    [Fact]
    public void Should_GiveSameWeightGradients_WhenInputNeedsNoGradient()
    {
        // Without x.RequiresGrad the bottom layer skips its input-gradient GEMM; nothing else may change.
        var grads = new List<float[][]>();
        foreach (bool inputGrad in new[] { true, false })
        {
            var gru = new Gru(4, 5, new Rng(31), numLayers: 2, bidirectional: true);
            var x = GradCheck.Random(new Rng(32), 3, 4, 4);
            x.RequiresGrad = inputGrad;
            var (o, _) = gru.Forward(x, new[] { 4, 2, 3 });
            Tape.Backward(Ops.SumAll(Ops.Mul(o, o)));
            Assert.Equal(inputGrad, x.Grad is not null);
            grads.Add(gru.Parameters().Select(p => p.Grad!.ToArray()).ToArray());
        }
        Assert.Equal(grads[0], grads[1]);
    }

    [Fact]
    public void Should_BackpropagateOnlyFinalState()
    {
        var gru = new Gru(2, 3, new Rng(6));
        var x = GradCheck.Random(new Rng(7), 2, 3, 2);
        GradCheck.Check(t => gru.Forward(t[0], new[] { 3, 1 }).Hidden, x);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_BackpropagateOnlyOutput_ThroughTwoLayers(bool bidirectional)
    {
        var gru = new Gru(3, 4, new Rng(10), numLayers: 2, bidirectional: bidirectional);
        var x = GradCheck.Random(new Rng(11), 3, 4, 3);
        var inputs = new List<Tensor> { x };
        inputs.AddRange(gru.Parameters());
        GradCheck.Check(t => gru.Forward(t[0], new[] { 4, 1, 3 }).Output, inputs.ToArray());
    }

    [Fact]
    public void Should_MatchFiniteDifferences_WithoutInitialState()
    {
        var gru = new Gru(3, 4, new Rng(12), numLayers: 2, bidirectional: true);
        var x = GradCheck.Random(new Rng(13), 3, 4, 3);
        var inputs = new List<Tensor> { x };
        inputs.AddRange(gru.Parameters());
        GradCheck.Check(t =>
        {
            var (o, hn) = gru.Forward(t[0], new[] { 4, 4, 2 });
            return Ops.Concat(new[] { o.Reshape(-1), hn.Reshape(-1) }, 0);
        }, inputs.ToArray());
    }

    [Fact]
    public void Should_NameParameters_LikePyTorch()
    {
        var gru = new Gru(300, 16, new Rng(8), numLayers: 2, bidirectional: true);
        var names = gru.StateDict().Select(p => p.Name).ToArray();
        Assert.Equal(new[]
        {
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
        }, names);
        Assert.Equal(new[] { 48, 300 }, gru.StateDict().First().Tensor.Shape);
        Assert.Equal(new[] { 48, 32 }, gru.StateDict().First(p => p.Name == "weight_ih_l1").Tensor.Shape);
        float bound = 1f / MathF.Sqrt(16);
        Assert.All(gru.Parameters(), p => Assert.All(p.ToArray(), v => Assert.InRange(v, -bound, bound)));
    }

    [Fact]
    public void Should_RejectBadLengths()
    {
        var gru = new Gru(2, 3, new Rng(9));
        var e = Assert.Throws<ArgumentException>(() => gru.Forward(Tensor.Zeros(2, 3, 2), new[] { 0, 3 }));
        Assert.Contains("length 0", e.Message);
        Tape.Clear();
    }
}
