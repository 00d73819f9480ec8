using CrossModal.Tensors.Optim;

namespace CrossModal.Tensors.Tests.Parity;

/// <summary>
/// Adam, AdamW and SGD driven step by step with PyTorch's gradient sequence, and clip_grad_norm_ above and below its
/// threshold, against PyTorch 1.13 (tolerance in <see cref="Parity"/>).
/// </summary>
public class OptimizerParityTests
{
    [Theory]
    [InlineData("adam")]
    [InlineData("adam_wd")]
    [InlineData("adamw")]
    [InlineData("adamw_wd")]
    [InlineData("sgd_momentum")]
    [InlineData("sgd_nesterov_wd")]
    [InlineData("sgd_dampening")]
    public void Should_MatchPyTorch_EveryStep(string fixture)
    {
        var f = Parity.Load(fixture);
        var names = f.Meta("params").Split(',');
        var parameters = names.Select(n =>
        {
            var init = f.Get("init." + n);
            return (Name: n, Tensor: Tensor.Parameter(init.ToArray(), init.Shape, n));
        }).ToList();
        float lr = f.MetaFloat("lr"), wd = f.MetaFloat("weight_decay");
        Optimizer opt = f.Meta("optimizer") switch
        {
            "adam" => new Adam(parameters, lr, weightDecay: wd),
            "adamw" => new AdamW(parameters, lr, weightDecay: wd),
            "sgd" => new Sgd(parameters, lr, f.MetaFloat("momentum"), f.MetaFloat("dampening"), wd, f.MetaBool("nesterov")),
            var other => throw new InvalidDataException($"unknown optimizer {other}"),
        };
        int steps = f.MetaInt("steps");
        for (int s = 1; s <= steps; s++)
        {
            foreach (var (n, p) in parameters)
            {
                var g = f.Get($"step{s}.grad.{n}");
                p.Grad = Tensor.FromArray(g.ToArray(), g.Shape);
            }
            opt.Step();
            foreach (var (n, p) in parameters) f.Close($"step{s}.{n}", p);
        }
        Assert.Equal(steps, opt.StepCount);
    }

    [Theory]
    [InlineData("clip_above", true)]
    [InlineData("clip_below", false)]
    public void Should_MatchPyTorch_ClipGradNorm(string fixture, bool clips)
    {
        var f = Parity.Load(fixture);
        float maxNorm = f.MetaFloat("max_norm");
        var parameters = f.Meta("grads").Split(',').Select(n =>
        {
            var g = f.Get("grad." + n);
            var p = Tensor.Parameter(new float[g.Length], g.Shape, n);
            p.Grad = Tensor.FromArray(g.ToArray(), g.Shape);
            return p;
        }).ToList();
        var withoutGrad = Tensor.Parameter(new float[] { 100f }, new[] { 1 }, "unused"); // ignored, as in PyTorch
        float total = GradClip.ClipByTotalNorm(parameters.Append(withoutGrad), maxNorm);
        Assert.Equal(clips, total > maxNorm);
        f.Close("total_norm", Tensor.Scalar(total));
        foreach (var p in parameters) f.Close("clipped." + p.Name, p.Grad);
    }
}
