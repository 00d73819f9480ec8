using CrossModal.Tests;

namespace CrossModal.Tensors.Tests;

using static CrossModal.Tensors.Ops;

/// <summary>Every differentiable op against central finite differences (tolerance in <see cref="GradCheck"/>).</summary>
public class OpGradientTests
{
    // One generator per test (xunit makes an instance per test), so inputs do not depend on the test order.
    private readonly Rng R = new(1234);

    private Tensor X(params int[] shape) => GradCheck.Random(R, shape);

    /// <summary>Random inputs kept at least 0.05 from the op's kinks (central differences with step 0.01 straddle a kink otherwise).</summary>
    private Tensor AwayFrom(Tensor t, params float[] kinks)
    {
        foreach (ref float v in t.Data)
            foreach (float k in kinks)
                if (Math.Abs(v - k) < 0.05f) v = k + (v >= k ? 0.05f : -0.05f) + 0.01f * Math.Sign(v - k + 1e-9f);
        return t;
    }

    private Tensor Positive(params int[] shape)
    {
        var t = X(shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = 0.5f + Math.Abs(d[i]);
        return t;
    }

    /// <summary>
    /// Distinct values at least 0.08 apart in random order: the maximum along any axis stays put under the +-1e-2
    /// finite-difference steps (random values can come within a step of each other and swap the argmax).
    /// </summary>
    private Tensor Separated(params int[] shape)
    {
        var t = X(shape);
        var perm = R.Permutation(t.Length);
        for (int i = 0; i < perm.Length; i++) t.Data[i] = perm[i] * 0.08f - perm.Length * 0.04f;
        return t;
    }

    [Fact] public void Should_DifferentiateMatMul_AllTransposes()
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var a = ta ? X(4, 3) : X(3, 4);
                var b = tb ? X(5, 4) : X(4, 5);
                GradCheck.Check(t => MatMul(t[0], t[1], ta, tb), a, b);
            }
    }

    [Fact] public void Should_DifferentiateMatMul_OddShapes()
    {
        foreach (var (m, k, n) in new[] { (1, 7, 33), (17, 1, 9), (13, 33, 7), (1, 1, 1) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    var a = ta ? X(k, m) : X(m, k);
                    var b = tb ? X(n, k) : X(k, n);
                    GradCheck.Check(t => MatMul(t[0], t[1], ta, tb), a, b);
                }
    }

    /// <summary>
    /// Shapes large enough for the threaded paths: 64^3 per item crosses the size at which a batch smaller than the
    /// thread count runs item by item with a threaded GEMM, and a batch of 3 splits across threads. Sampled elements.
    /// </summary>
    [Fact] public void Should_DifferentiateBatchedMatMul_LargeShapes()
    {
        foreach (int batch in new[] { 1, 3 })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    var a = ta ? X(batch, 65, 64) : X(batch, 64, 65);
                    var b = tb ? X(batch, 63, 65) : X(batch, 65, 63);
                    GradCheck.CheckSampled(t => BatchedMatMul(t[0], t[1], ta, tb), 24, a, b);
                }
        // Broadcast operands of the large size: their gradients sum over the batch.
        GradCheck.CheckSampled(t => BatchedMatMul(t[0], t[1]), 24, X(1, 64, 65), X(3, 65, 63));
        GradCheck.CheckSampled(t => BatchedMatMul(t[0], t[1], false, true), 24, X(3, 64, 65), X(1, 63, 65));
    }

    [Fact] public void Should_DifferentiateBatchedMatMul_AllTransposesAndBroadcast()
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var a = ta ? X(2, 4, 3) : X(2, 3, 4);
                var b = tb ? X(2, 5, 4) : X(2, 4, 5);
                GradCheck.Check(t => BatchedMatMul(t[0], t[1], ta, tb), a, b);
                var a1 = ta ? X(1, 4, 3) : X(1, 3, 4);
                GradCheck.Check(t => BatchedMatMul(t[0], t[1], ta, tb), a1, b);
                var b1 = tb ? X(1, 5, 4) : X(1, 4, 5);
                GradCheck.Check(t => BatchedMatMul(t[0], t[1], ta, tb), a, b1);
            }
    }

    [Fact] public void Should_DifferentiateLinear()
    {
        GradCheck.Check(t => Linear(t[0], t[1], t[2]), X(2, 3, 4), X(5, 4), X(5));
        GradCheck.Check(t => Linear(t[0], t[1], null), X(3, 4), X(5, 4));
    }

    [Fact] public void Should_DifferentiateBroadcastArithmetic()
    {
        GradCheck.Check(t => Add(t[0], t[1]), X(3, 4), X(4));
        GradCheck.Check(t => Sub(t[0], t[1]), X(3, 1, 4), X(2, 1));
        GradCheck.Check(t => Mul(t[0], t[1]), X(2, 3, 4), X(3, 1));
        GradCheck.Check(t => Div(t[0], t[1]), X(3, 4), Positive(1, 4));
        GradCheck.Check(t => Div(t[0], t[1]), X(2, 3), Positive(2, 3));
        GradCheck.Check(t => Mul(t[0], t[1]), X(), X(2, 2));
        // The left operand broadcast (its gradient is reduced), both broadcast, rank-0 on either side.
        GradCheck.Check(t => Add(t[0], t[1]), X(4), X(3, 4));
        GradCheck.Check(t => Sub(t[0], t[1]), X(3, 1), X(1, 4));
        GradCheck.Check(t => Mul(t[0], t[1]), X(2, 1, 4), X(3, 1));
        GradCheck.Check(t => Div(t[0], t[1]), X(3, 1), Positive(1, 4));
        GradCheck.Check(t => Div(t[0], t[1]), X(2, 3), Positive());
        GradCheck.Check(t => Sub(t[0], t[1]), X(), X(3));
    }

    [Fact] public void Should_DifferentiateScalarOps()
    {
        GradCheck.Check(t => AddScalar(t[0], 3f), X(5));
        GradCheck.Check(t => MulScalar(t[0], -2.5f), X(5));
        GradCheck.Check(t => RSubScalar(1f, t[0]), X(5));
        GradCheck.Check(t => PowScalar(t[0], 3f), X(5));
        GradCheck.Check(t => PowScalar(t[0], 0.5f), Positive(5));
        GradCheck.Check(t => PowScalar(t[0], -1.5f), Positive(5));
        GradCheck.Check(t => Neg(t[0]), X(5));
    }

    [Fact] public void Should_DifferentiateActivations()
    {
        GradCheck.Check(t => Relu(t[0]), AwayFrom(X(20), 0f));
        GradCheck.Check(t => LeakyRelu(t[0], 0.1f), AwayFrom(X(20), 0f));
        GradCheck.Check(t => Tanh(t[0]), X(20));
        GradCheck.Check(t => Sigmoid(t[0]), X(20));
        GradCheck.Check(t => Exp(t[0]), X(20));
        GradCheck.Check(t => Log(t[0]), Positive(20));
        GradCheck.Check(t => Sqrt(t[0]), Positive(20));
        GradCheck.Check(t => Abs(t[0]), AwayFrom(X(20), 0f));
        GradCheck.Check(t => Clamp(t[0], -0.5f, 0.4f), AwayFrom(X(20), -0.5f, 0.4f));
        GradCheck.Check(t => Clamp(t[0], 1e-8f, null), AwayFrom(X(20), 0f));
        GradCheck.Check(t => Clamp(t[0], null, 0.3f), AwayFrom(X(20), 0.3f));
    }

    [Fact] public void Should_DifferentiateReductions()
    {
        foreach (int axis in new[] { 0, 1, 2, -1 })
        {
            GradCheck.Check(t => Sum(t[0], axis), X(2, 3, 4));
            GradCheck.Check(t => Mean(t[0], axis, keepDim: true), X(2, 3, 4));
            GradCheck.Check(t => Max(t[0], axis).Values, Separated(2, 3, 4));
            GradCheck.Check(t => Sum(t[0], axis, keepDim: true), X(2, 3, 4));
            GradCheck.Check(t => Mean(t[0], axis), X(2, 3, 4));
            GradCheck.Check(t => Max(t[0], axis, keepDim: true).Values, Separated(2, 3, 4));
        }
        GradCheck.Check(t => SumAll(t[0]), X(3, 4));
        GradCheck.Check(t => MeanAll(t[0]), X(3, 4));
    }

    [Fact] public void Should_DifferentiateSoftmaxFamily()
    {
        foreach (int axis in new[] { 0, 1, 2, -1 })
        {
            GradCheck.Check(t => Softmax(t[0], axis), X(2, 3, 4));
            GradCheck.Check(t => LogSoftmax(t[0], axis), X(2, 3, 4));
            GradCheck.Check(t => LogSumExp(t[0], axis), X(2, 3, 4));
            GradCheck.Check(t => LogSumExp(t[0], axis, keepDim: true), X(2, 3, 4));
            GradCheck.Check(t => L2Normalize(t[0], axis), X(2, 3, 4));
            GradCheck.Check(t => L2Normalize(t[0], axis, 0f), X(2, 3, 4));
        }
    }

    [Fact] public void Should_DifferentiateShapeOps()
    {
        GradCheck.Check(t => Reshape(t[0], 4, -1), X(2, 3, 4));
        GradCheck.Check(t => Transpose(t[0], 0, 2), X(2, 3, 4));
        GradCheck.Check(t => Permute(t[0], 2, 0, 1), X(2, 3, 4));
        GradCheck.Check(t => Narrow(t[0], 1, 1, 2), X(2, 3, 4));
        GradCheck.Check(t => Narrow(t[0], 0, 1, 1), X(2, 3, 4));
        GradCheck.Check(t => Concat(new[] { t[0], t[1] }, 1), X(2, 3, 4), X(2, 2, 4));
        GradCheck.Check(t => Stack(new[] { t[0], t[1] }, 1), X(2, 3), X(2, 3));
        GradCheck.Check(t => IndexSelect(t[0], new[] { 1, 1, 0 }), X(2, 3, 2));
        GradCheck.Check(t => IndexSelect(t[0], new[] { 2, 0, 2, 1 }), X(3, 4));
        GradCheck.Check(t => Gather(t[0], 1, new[] { 2, 0, 1, 1, 0, 0 }, 3), X(2, 3));
        GradCheck.Check(t => MaskedFill(t[0], new[] { true, false, false, true }, -5f), X(3, 4));
        GradCheck.Check(t => Embedding(t[0], new[] { 1, 0, 1, 3, 2, 1 }, 2, 3), X(4, 5));
    }

    [Fact] public void Should_DifferentiateReshapeAndPermute_OnOtherAxes()
    {
        GradCheck.Check(t => Reshape(t[0], 6, 4), X(2, 3, 4));
        GradCheck.Check(t => Reshape(t[0], 24), X(2, 3, 4));
        GradCheck.Check(t => Transpose(t[0], 1, 2), X(2, 3, 4));
        GradCheck.Check(t => Transpose(t[0], -1, 0), X(3, 4));
        GradCheck.Check(t => Permute(t[0], 1, 3, 0, 2), X(2, 3, 2, 4));
    }

    [Fact] public void Should_DifferentiateNarrow_OnEveryAxis()
    {
        GradCheck.Check(t => Narrow(t[0], 2, 1, 2), X(2, 3, 4));
        GradCheck.Check(t => Narrow(t[0], -1, 3, 1), X(2, 3, 4));
        GradCheck.Check(t => Narrow(t[0], 0, 0, 2), X(3, 4));
        // A view: the axes before the narrowed one have size 1.
        GradCheck.Check(t => Narrow(t[0], 1, 1, 2), X(1, 3, 4));
        // Two overlapping narrows of one input accumulate.
        GradCheck.Check(t => Add(Narrow(t[0], 1, 0, 3), Narrow(t[0], 1, 1, 3)), X(2, 4, 3));
    }

    [Fact] public void Should_DifferentiateConcat_OnEveryAxis()
    {
        GradCheck.Check(t => Concat(new[] { t[0], t[1], t[2] }, 0), X(1, 3, 2), X(2, 3, 2), X(3, 3, 2));
        GradCheck.Check(t => Concat(new[] { t[0], t[1], t[2] }, 2), X(2, 3, 1), X(2, 3, 2), X(2, 3, 3));
        GradCheck.Check(t => Concat(new[] { t[0], t[1] }, -1), X(4), X(3));
        // One part without a gradient.
        var constant = Tensor.Zeros(2, 2);
        GradCheck.Check(t => Concat(new[] { t[0], constant, t[0] }, 1), X(2, 3));
    }

    [Fact] public void Should_DifferentiateStack_OnFirstAndLastAxes()
    {
        GradCheck.Check(t => Stack(new[] { t[0], t[1], t[2] }, 0), X(2, 3), X(2, 3), X(2, 3));
        GradCheck.Check(t => Stack(new[] { t[0], t[1], t[2] }, 2), X(2, 3), X(2, 3), X(2, 3));
        GradCheck.Check(t => Stack(new[] { t[0], t[1] }, -1), X(2, 3, 2), X(2, 3, 2));
        GradCheck.Check(t => Stack(new[] { t[0], t[0] }, 0), X(4));
    }

    [Fact] public void Should_DifferentiateGather_OnEveryAxis()
    {
        // x [2, 3, 4]; index has x's shape except along the axis; repeats accumulate.
        GradCheck.Check(t => Gather(t[0], 0, new[] { 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0 }, 2), X(2, 3, 4));
        GradCheck.Check(t => Gather(t[0], 1, new[] { 2, 2, 0, 1, 0, 0, 1, 2 }, 1), X(2, 3, 4));
        GradCheck.Check(t => Gather(t[0], 2, new[] { 3, 3, 0, 1, 2, 0, 0, 0, 3, 2, 1, 1 }, 2), X(2, 3, 4));
        GradCheck.Check(t => Gather(t[0], -1, new[] { 0, 0, 0, 2, 1, 3 }, 3), X(2, 4));
    }

    [Fact] public void Should_DifferentiateMaskedFill_WithFullMask()
    {
        var mask = new bool[24];
        for (int i = 0; i < mask.Length; i++) mask[i] = i % 5 == 1;
        GradCheck.Check(t => MaskedFill(t[0], mask, 0f), X(2, 3, 4));
    }

    /// <summary>Dropout against finite differences: a fresh generator with a fixed seed per call gives one mask.</summary>
    [Fact] public void Should_DifferentiateDropout_WithFiniteDifferences()
    {
        GradCheck.Check(t => Dropout(t[0], 0.3f, training: true, new Rng(5)), X(40));
        GradCheck.Check(t => Dropout(t[0], 0.3f, training: false, new Rng(5)), X(10));
    }

    [Fact] public void Should_ScaleKeptElements_InDropout()
    {
        var x = Tensor.Full(1f, 10000);
        var y = Dropout(x, 0.25f, training: true, new Rng(3));
        int zeros = 0;
        foreach (float v in y.Data)
        {
            if (v == 0f) zeros++;
            else Assert.Equal(1f / 0.75f, v, 5);
        }
        Assert.InRange(zeros, 2300, 2700); // 2,500 expected, sd 43
        Assert.Same(x, Dropout(x, 0.25f, training: false, new Rng(3)));
    }

    [Fact] public void Should_DifferentiateDropout_WithItsMask()
    {
        var x = X(50);
        x.RequiresGrad = true;
        var y = Dropout(x, 0.5f, true, new Rng(8));
        Autograd.Tape.Backward(SumAll(y));
        var g = x.Grad!.Data;
        for (int i = 0; i < 50; i++) Assert.Equal(y.Data[i] == 0f ? 0f : 2f, g[i]);
    }
}
