using CrossModal.Tensors.Nn;
using CrossModal.Tests;
using static CrossModal.Tensors.Ops;

namespace CrossModal.Tensors.Tests;

/// <summary>
/// Every op's accumulating backward branch (taken when an input already holds a gradient from another use) against
/// finite differences: each op is applied twice to the same inputs, so the second backward adds to the first.
/// </summary>
public class GradientAccumulationTests
{
    // One generator per test (xunit makes an instance per test), so inputs do not depend on the test order.
    private readonly Rng R = new(4321);

    private Tensor X(params int[] shape) => GradCheck.Random(R, shape);

    private Tensor Positive(params int[] shape)
    {
        var t = X(shape);
        foreach (ref float v in t.Data) v = 0.5f + Math.Abs(v);
        return t;
    }

    /// <summary>f(inputs) twice, flattened and concatenated.</summary>
    private static void Twice(Func<Tensor[], Tensor> f, params Tensor[] inputs) =>
        GradCheck.Check(t => Concat(new[] { f(t).Reshape(-1), MulScalar(f(t), 0.5f).Reshape(-1) }, 0), inputs);

    public static TheoryData<string> Unary() => new(
        "relu", "leaky_relu", "tanh", "sigmoid", "exp", "log", "sqrt", "abs", "clamp", "pow", "add_scalar", "mul_scalar",
        "sum1", "mean0", "max2", "sum_all", "softmax1", "log_softmax0", "logsumexp2", "l2norm1", "reshape", "permute",
        "narrow1", "narrow0", "stack", "concat", "index_select", "gather2", "masked_fill", "embedding", "dropout");

    private static Tensor ApplyUnary(string op, Tensor x) => op switch
    {
        "relu" => Relu(x),
        "leaky_relu" => LeakyRelu(x, 0.1f),
        "tanh" => Tanh(x),
        "sigmoid" => Sigmoid(x),
        "exp" => Exp(x),
        "log" => Log(x),
        "sqrt" => Sqrt(x),
        "abs" => Abs(x),
        "clamp" => Clamp(x, 0.6f, 1.2f),
        "pow" => PowScalar(x, 2.5f),
        "add_scalar" => AddScalar(x, 2f),
        "mul_scalar" => MulScalar(x, -3f),
        "sum1" => Sum(x, 1),
        "mean0" => Mean(x, 0),
        "max2" => Max(x, 2).Values,
        "sum_all" => SumAll(x),
        "softmax1" => Softmax(x, 1),
        "log_softmax0" => LogSoftmax(x, 0),
        "logsumexp2" => LogSumExp(x, 2),
        "l2norm1" => L2Normalize(x, 1),
        "reshape" => Reshape(x, 6, 4),
        "permute" => Permute(x, 2, 0, 1),
        "narrow1" => Narrow(x, 1, 1, 2),
        "narrow0" => Narrow(x, 0, 1, 1),
        "stack" => Stack(new[] { x, x }, 1),
        "concat" => Concat(new[] { x, x }, 2),
        "index_select" => IndexSelect(x, new[] { 1, 1, 0 }),
        "gather2" => Gather(x, 2, new[] { 0, 3, 3, 1, 2, 2, 0, 0, 1, 1, 3, 2 }, 2),
        "masked_fill" => MaskedFill(x, new[] { true, false, false, true }, 0f),
        "embedding" => Embedding(Reshape(x, 6, 4), new[] { 5, 0, 5, 2 }, 2, 2),
        "dropout" => Dropout(x, 0.3f, true, new Rng(3)),
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [MemberData(nameof(Unary))]
    public void Should_AccumulateUnaryOpGradients(string op)
    {
        // Positive inputs 0.5..1.5 keep log/sqrt/pow defined; the clamp bounds cut inside that range. The max input
        // has distinct, well separated values so the argmax does not move under the finite-difference step.
        var x = Positive(2, 3, 4);
        if (op == "clamp")
        {
            // Keep inputs 0.05 away from the bounds: central differences with step 0.01 must not straddle a kink.
            foreach (ref float v in x.Data)
                foreach (float k in new[] { 0.6f, 1.2f })
                    if (Math.Abs(v - k) < 0.05f) v = v >= k ? k + 0.06f : k - 0.06f;
        }
        if (op == "max2")
        {
            var perm = R.Permutation(24);
            for (int i = 0; i < 24; i++) x.Data[i] = 0.5f + perm[i] * 0.05f;
        }
        Twice(t => ApplyUnary(op, t[0]), x);
    }

    [Fact]
    public void Should_AccumulateBinaryOpGradients()
    {
        Twice(t => Add(t[0], t[1]), X(3, 4), X(4));
        Twice(t => Sub(t[0], t[1]), X(3, 1), X(1, 4));
        Twice(t => Mul(t[0], t[1]), X(2, 3), X(2, 3));
        Twice(t => Div(t[0], t[1]), X(2, 3), Positive(3));
        Twice(t => MatMul(t[0], t[1]), X(3, 4), X(4, 2));
        Twice(t => MatMul(t[0], t[1], true, true), X(4, 3), X(2, 4));
        Twice(t => BatchedMatMul(t[0], t[1]), X(2, 3, 4), X(2, 4, 2));
        Twice(t => BatchedMatMul(t[0], t[1], true, false), X(1, 4, 3), X(2, 4, 2));
        Twice(t => BatchedMatMul(t[0], t[1], false, true), X(2, 3, 4), X(1, 2, 4));
        Twice(t => Linear(t[0], t[1], t[2]), X(3, 4), X(2, 4), X(2));
    }

    [Fact]
    public void Should_AccumulateLayerGradients()
    {
        var bn = new BatchNorm1d(3);
        new Rng(1).Uniform(bn.Weight.Data, 0.5f, 1.5f);
        Twice(t => bn.Forward(t[0]), X(4, 3), bn.Weight, bn.Bias);
        bn.Eval();
        Twice(t => bn.Forward(t[0]), X(4, 3, 2), bn.Weight, bn.Bias);

        var gru = new Gru(2, 3, new Rng(2), numLayers: 2, bidirectional: true);
        var inputs = new List<Tensor> { X(2, 3, 2), X(4, 2, 3) };
        inputs.AddRange(gru.Parameters());
        Twice(t =>
        {
            var (o, h) = gru.Forward(t[0], new[] { 3, 2 }, t[1]);
            return Concat(new[] { o.Reshape(-1), h.Reshape(-1) }, 0);
        }, inputs.ToArray());
    }
}
