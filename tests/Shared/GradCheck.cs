using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Tests;

/// <summary>
/// Finite-difference gradient checks in float32. The loss is sum(f(inputs) * w) with fixed random weights w, so
/// every output element matters. Central differences with step h = 1e-2 on values of order 1 have truncation and
/// rounding errors around 1e-3, hence the stated tolerance |analytic - numeric| &lt;= 2e-3 + 2e-2 |numeric|.
/// </summary>
internal static class GradCheck
{
    public const float Step = 1e-2f;
    public const float AbsTol = 2e-3f;
    public const float RelTol = 2e-2f;

    public static Tensor Random(Rng rng, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        rng.Uniform(t.Data, -1f, 1f);
        t.RequiresGrad = true;
        return t;
    }

    public static void Check(Func<Tensor[], Tensor> f, params Tensor[] inputs) => Check(f, new Rng(99), inputs);

    public static void Check(Func<Tensor[], Tensor> f, Rng rng, params Tensor[] inputs)
    {
        foreach (var t in inputs) t.Grad = null;
        Tensor probe;
        using (Tape.NoGrad()) probe = f(inputs);
        var w = new float[probe.Length];
        rng.Uniform(w, -1f, 1f);
        var wt = Tensor.FromArray(w, probe.Shape);

        var y = f(inputs);
        var loss = Ops.SumAll(Ops.Mul(y, wt));
        Tape.Backward(loss);

        foreach (var (x, xi) in inputs.Select((x, i) => (x, i)))
        {
            if (!x.RequiresGrad) continue;
            Assert.NotNull(x.Grad);
            var analytic = x.Grad!.ToArray();
            var d = x.Data;
            for (int i = 0; i < d.Length; i++)
            {
                float keep = d[i];
                d[i] = keep + Step;
                double plus = Loss(f, inputs, w);
                d[i] = keep - Step;
                double minus = Loss(f, inputs, w);
                d[i] = keep;
                double numeric = (plus - minus) / (2 * Step);
                double err = Math.Abs(analytic[i] - numeric);
                Assert.True(err <= AbsTol + RelTol * Math.Abs(numeric),
                    $"input {xi} element {i}: analytic {analytic[i]:G6}, numeric {numeric:G6} (|diff| {err:G3})");
            }
        }
    }

    private static double Loss(Func<Tensor[], Tensor> f, Tensor[] inputs, float[] w)
    {
        using var _ = Tape.NoGrad();
        var y = f(inputs).Data;
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += (double)y[i] * w[i];
        return s;
    }
}
