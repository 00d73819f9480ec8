using CrossModal.Tensors.Optim;

namespace CrossModal.Tensors.Tests.Optim;

/// <summary>
/// A tensor listed twice in an optimizer's parameter list, as torch.optim and clip_grad_norm_ treat it (VSRN's
/// original list holds its captioning parameters twice): Adam keeps one state for it and updates it twice per step
/// with the same gradient, which must equal two steps of an Adam that lists it once; clipping counts its gradient
/// twice in the total norm and scales it twice.
/// </summary>
public class DuplicateParameterTests
{
    private static Tensor Param(float[] values) => Tensor.Parameter(values, [values.Length], "p");

    [Fact]
    public void Should_StepATwiceListedParameterTwice_WithOneState()
    {
        float[] init = [0.5f, -1f, 2f], grad1 = [0.3f, -0.2f, 0.05f], grad2 = [-0.1f, 0.4f, 0.2f];
        var twice = Param((float[])init.Clone());
        var once = Param((float[])init.Clone());
        var other = Param([1f]);
        var adamTwice = new Adam([("p", twice), ("q", other), ("p", twice)], 0.01f);
        var adamOnce = new Adam([("p", once)], 0.01f);
        foreach (var g in new[] { grad1, grad2 })
        {
            twice.Grad = Tensor.FromArray((float[])g.Clone(), 3);
            other.Grad = Tensor.FromArray([1f], 1);
            adamTwice.Step();
            once.Grad = Tensor.FromArray((float[])g.Clone(), 3);
            adamOnce.Step();
            adamOnce.Step();
            Assert.Equal(once.ToArray(), twice.ToArray());
        }
        // One state per tensor, named after its first listing; the step count advanced twice per Step.
        var state = adamTwice.StateTensors().ToList();
        Assert.Equal(["exp_avg.p", "exp_avg.q", "exp_avg_sq.p", "exp_avg_sq.q", "step.p", "step.q"], state.Select(s => s.Name));
        Assert.Equal(4f, state.Single(s => s.Name == "step.p").Tensor.ToScalar());
        Assert.Equal(2f, state.Single(s => s.Name == "step.q").Tensor.ToScalar());
    }

    [Fact]
    public void Should_CountAndScaleATwiceListedGradientTwice_WhenClipping()
    {
        var p = Param([0f, 0f]);
        var q = Param([0f]);
        p.Grad = Tensor.FromArray([3f, 4f], 2); // norm 5
        q.Grad = Tensor.FromArray([5f], 1);     // norm 5
        float total = GradClip.ClipByTotalNorm([p, q, p], 1f);
        Assert.Equal(MathF.Sqrt(75f), total, 4); // √(25 + 25 + 25)
        float coef = 1f / (MathF.Sqrt(75f) + 1e-6f);
        Assert.Equal(3f * coef * coef, p.Grad[0], 6);
        Assert.Equal(5f * coef, q.Grad[0], 6);
    }
}
