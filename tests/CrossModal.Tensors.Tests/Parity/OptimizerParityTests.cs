using CrossModal.Tensors.IO;
using CrossModal.Tensors.Optim;

namespace CrossModal.Tensors.Tests.Parity;

/// <summary>
/// Adam, AdamW and SGD driven step by step with PyTorch's gradient sequence (including steps at which a parameter
/// has no gradient and is skipped), also resumed from saved state halfway, and clip_grad_norm_ above and below its
/// threshold, against PyTorch 1.13 (tolerance in <see cref="Parity"/>).
/// </summary>
public class OptimizerParityTests
{
    public static TheoryData<string> Fixtures() => new(
        "adam", "adam_wd", "adamw", "adamw_wd", "sgd_momentum", "sgd_nesterov_wd", "sgd_dampening",
        "adam_absent_grads", "adamw_absent_grads", "sgd_absent_grads");

    private static List<(string Name, Tensor Tensor)> Parameters(SafetensorsFile f, Func<string, Tensor> source) =>
        f.Meta("params").Split(',').Select(n =>
        {
            var v = source(n);
            return (n, Tensor.Parameter(v.ToArray(), v.Shape, n));
        }).ToList();

    private static Optimizer Create(SafetensorsFile f, List<(string Name, Tensor Tensor)> parameters)
    {
        float lr = f.MetaFloat("lr"), wd = f.MetaFloat("weight_decay");
        return f.Meta("optimizer") switch
        {
            "adam" => new Adam(parameters, lr, weightDecay: wd),
            "adamw" => new AdamW(parameters, lr, weightDecay: wd),
            "sgd" => new Sgd(parameters, lr, f.MetaFloat("momentum"), f.MetaFloat("dampening"), wd, f.MetaBool("nesterov")),
            var other => throw new InvalidDataException($"unknown optimizer {other}"),
        };
    }

    /// <summary>Sets step <paramref name="s"/>'s gradients, steps, and compares the parameters with PyTorch's.</summary>
    private static void Step(SafetensorsFile f, Optimizer opt, List<(string Name, Tensor Tensor)> parameters, int s)
    {
        foreach (var (n, p) in parameters)
        {
            // No entry: PyTorch's gradient was None at this step, so the parameter is skipped.
            p.Grad = f.Tensors.TryGetValue($"step{s}.grad.{n}", out var g) ? Tensor.FromArray(g.ToArray(), g.Shape) : null;
        }
        opt.Step();
        foreach (var (n, p) in parameters) f.Close($"step{s}.{n}", p);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Should_MatchPyTorch_EveryStep(string fixture)
    {
        var f = Parity.Load(fixture);
        var parameters = Parameters(f, n => f.Get("init." + n));
        var opt = Create(f, parameters);
        int steps = f.MetaInt("steps");
        for (int s = 1; s <= steps; s++) Step(f, opt, parameters, s);
        Assert.Equal(steps, opt.StepCount);
    }

    /// <summary>
    /// Two steps, then a fresh optimizer over fresh parameters restored from <see cref="Optimizer.StateTensors"/>
    /// (as a checkpoint resume does) takes the remaining steps, which must still match PyTorch's uninterrupted run.
    /// </summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Should_MatchPyTorch_AfterResumingFromState(string fixture)
    {
        const int before = 2;
        var f = Parity.Load(fixture);
        var parameters = Parameters(f, n => f.Get("init." + n));
        var first = Create(f, parameters);
        for (int s = 1; s <= before; s++) Step(f, first, parameters, s);
        var saved = first.StateTensors().ToDictionary(e => e.Name, e => e.Tensor.Clone());

        var resumed = Parameters(f, n => parameters.Single(p => p.Name == n).Tensor);
        var second = Create(f, resumed);
        second.LoadState(saved, first.StepCount);
        for (int s = before + 1; s <= f.MetaInt("steps"); s++) Step(f, second, resumed, s);
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
