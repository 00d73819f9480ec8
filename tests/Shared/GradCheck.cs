using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Tests;

/// <summary>
/// Finite-difference gradient checks in float32. The loss is sum(f(inputs) * w) with fixed random weights w, so
/// every output element matters. Central differences with step h = 1e-2 on values of order 1 have truncation and
/// rounding errors around 1e-3, hence the stated tolerance |analytic - numeric| &lt;= 2e-3 + 2e-2 |numeric|.
/// The analytic gradient is computed twice, once with plain arrays and once inside a <see cref="DirtyPool"/> scope
/// (pooled, NaN-poisoned intermediate storage) where each input reaches f through an exact copy (x * 1), so f sees
/// intermediate tensors whose gradient buffers are pooled too; both must pass.
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

    public static void Check(Func<Tensor[], Tensor> f, params Tensor[] inputs) => Check(f, new Rng(99), int.MaxValue, inputs);

    /// <summary>
    /// Checks at most <paramref name="samplesPerInput"/> elements of each input (evenly spread, always including
    /// the first and last), for shapes too large to difference element by element.
    /// </summary>
    public static void CheckSampled(Func<Tensor[], Tensor> f, int samplesPerInput, params Tensor[] inputs) =>
        Check(f, new Rng(99), samplesPerInput, inputs);

    public static void Check(Func<Tensor[], Tensor> f, Rng rng, params Tensor[] inputs) => Check(f, rng, int.MaxValue, inputs);

    private static void Check(Func<Tensor[], Tensor> f, Rng rng, int samplesPerInput, Tensor[] inputs)
    {
        Tensor probe;
        using (Tape.NoGrad()) probe = f(inputs);
        var w = new float[probe.Length];
        rng.Uniform(w, -1f, 1f);
        var wt = Tensor.FromArray(w, probe.Shape);

        var plain = Analytic(f, inputs, wt, pooled: false);
        var pooled = Analytic(f, inputs, wt, pooled: true);

        foreach (var (x, xi) in inputs.Select((x, i) => (x, i)))
        {
            if (!x.RequiresGrad) continue;
            Assert.NotNull(plain[xi]);
            Assert.NotNull(pooled[xi]);
            var d = x.Data;
            foreach (int i in Indices(d.Length, samplesPerInput))
            {
                float keep = d[i];
                d[i] = keep + Step;
                double plus = Loss(f, inputs, w);
                d[i] = keep - Step;
                double minus = Loss(f, inputs, w);
                d[i] = keep;
                double numeric = (plus - minus) / (2 * Step);
                foreach (var (analytic, how) in new[] { (plain[xi]!, "plain"), (pooled[xi]!, "pooled") })
                {
                    double err = Math.Abs(analytic[i] - numeric);
                    Assert.True(err <= AbsTol + RelTol * Math.Abs(numeric),
                        $"input {xi} element {i} ({how} storage): analytic {analytic[i]:G6}, numeric {numeric:G6} (|diff| {err:G3})");
                }
            }
        }
    }

    private static IEnumerable<int> Indices(int length, int samples)
    {
        if (length <= samples)
        {
            for (int i = 0; i < length; i++) yield return i;
            yield break;
        }
        for (int s = 0; s < samples; s++) yield return (int)((long)s * (length - 1) / (samples - 1));
    }

    /// <summary>The inputs' gradients of sum(f(inputs) * w), computed with plain or pooled intermediate storage.</summary>
    private static float[]?[] Analytic(Func<Tensor[], Tensor> f, Tensor[] inputs, Tensor w, bool pooled)
    {
        foreach (var t in inputs) t.Grad = null;
        using (pooled ? DirtyPool.Scope() : null)
        {
            var args = pooled ? inputs.Select(x => x.RequiresGrad ? Ops.MulScalar(x, 1f) : x).ToArray() : inputs;
            var y = f(args);
            Tape.Backward(Ops.SumAll(Ops.Mul(y, w)));
        }
        var grads = inputs.Select(x => x.Grad?.ToArray()).ToArray();
        foreach (var t in inputs) t.Grad = null;
        return grads;
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
