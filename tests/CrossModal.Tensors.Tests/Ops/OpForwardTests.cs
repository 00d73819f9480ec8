namespace CrossModal.Tensors.Tests;

using CrossModal.Tensors.Autograd;
using static CrossModal.Tensors.Ops;

/// <summary>Forward values against hand-computed results.</summary>
public class OpForwardTests
{
    private static Tensor T(float[] v, params int[] s) => Tensor.FromArray(v, s);

    [Fact] public void Should_Broadcast_LikeNumpy()
    {
        var y = Add(T(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3), T(new float[] { 10, 20, 30 }, 3));
        Assert.Equal(new float[] { 11, 22, 33, 14, 25, 36 }, y.ToArray());
        var z = Sub(T(new float[] { 1, 2 }, 2, 1), T(new float[] { 10, 20, 30 }, 1, 3));
        Assert.Equal(new[] { 2, 3 }, z.Shape);
        Assert.Equal(new float[] { -9, -19, -29, -8, -18, -28 }, z.ToArray());
        Assert.Throws<ArgumentException>(() => Add(Tensor.Zeros(2, 3), Tensor.Zeros(2)));
    }

    [Fact] public void Should_ComputeSoftmaxAndLogSumExp()
    {
        var x = T(new float[] { 1, 2, 3 }, 1, 3);
        var s = Softmax(x, 1).ToArray();
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Assert.Equal(Math.Exp(1) / z, s[0], 6);
        Assert.Equal(Math.Exp(3) / z, s[2], 6);
        Assert.Equal(Math.Log(z), LogSumExp(x, 1).ToScalar(), 5);
        Assert.Equal(1 - Math.Log(z), LogSoftmax(x, 1).ToArray()[0], 5);
        // Large inputs do not overflow.
        Assert.Equal(1000 + Math.Log(2), LogSumExp(T(new float[] { 1000, 1000 }, 2), 0).ToScalar(), 3);
    }

    [Fact] public void Should_L2Normalize_WithEpsilon()
    {
        var y = L2Normalize(T(new float[] { 3, 4, 0, 0 }, 2, 2), 1, 1e-8f).ToArray();
        Assert.Equal(0.6f, y[0], 6);
        Assert.Equal(0.8f, y[1], 6);
        Assert.Equal(0f, y[2]);
    }

    [Fact] public void Should_PermuteAndNarrow()
    {
        var x = T(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        var p = Permute(x, 2, 0, 1);
        Assert.Equal(new[] { 4, 2, 3 }, p.Shape);
        Assert.Equal(x[1, 2, 3], p[3, 1, 2]);
        var n = Narrow(x, 2, 1, 2);
        Assert.Equal(new float[] { 1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22 }, n.ToArray());
        var v = Narrow(x, 0, 1, 1);
        Assert.Same(x.Buffer, v.Buffer); // leading-axis slice is a view
    }

    [Fact] public void Should_TakeFirstMaximum()
    {
        var (v, idx) = Max(T(new float[] { 1, 5, 5, 2 }, 4), 0);
        Assert.Equal(5f, v.ToScalar());
        Assert.Equal(1, idx[0]);
    }

    [Fact] public void Should_NotRecord_InNoGrad()
    {
        var w = Tensor.Parameter(new float[] { 1, 2 }, new[] { 2 });
        using (Tape.NoGrad())
        {
            var y = MulScalar(w, 2);
            Assert.False(y.RequiresGrad);
        }
        Assert.True(MulScalar(w, 2).RequiresGrad);
        Tape.Clear();
    }

    [Fact] public void Should_AccumulateGradients_AcrossUses()
    {
        var x = Tensor.Parameter(new float[] { 2 }, new[] { 1 });
        var y = Add(Mul(x, x), MulScalar(x, 3)); // y = x^2 + 3x, dy/dx = 2x + 3 = 7
        Tape.Backward(y);
        Assert.Equal(7f, x.Grad!.ToScalar());
        x.ZeroGrad();
        Tape.Backward(MulScalar(x, 2));
        Assert.Equal(2f, x.Grad!.ToScalar());
    }
}
