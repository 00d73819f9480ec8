namespace CrossModal.Tensors.Nn;

/// <summary>Parameter initialisers with PyTorch's formulas (the random streams are ours, seeded).</summary>
public static class Init
{
    /// <summary>U(low, high).</summary>
    public static void Uniform(Tensor t, float low, float high, Rng rng) => rng.Uniform(t.Data, low, high);

    /// <summary>U(-a, a).</summary>
    public static void Uniform(Tensor t, float a, Rng rng) => rng.Uniform(t.Data, -a, a);

    /// <summary>N(mean, std).</summary>
    public static void Normal(Tensor t, float mean, float std, Rng rng) => rng.Normal(t.Data, mean, std);

    /// <summary>Xavier/Glorot uniform for a [out, in, ...] weight: U(-r, r), r = gain * sqrt(6 / (fan_in + fan_out)).</summary>
    public static void XavierUniform(Tensor w, Rng rng, float gain = 1f)
    {
        var (fanIn, fanOut) = Fans(w);
        float r = gain * MathF.Sqrt(6f / (fanIn + fanOut));
        rng.Uniform(w.Data, -r, r);
    }

    /// <summary>Xavier/Glorot normal: N(0, gain * sqrt(2 / (fan_in + fan_out))).</summary>
    public static void XavierNormal(Tensor w, Rng rng, float gain = 1f)
    {
        var (fanIn, fanOut) = Fans(w);
        rng.Normal(w.Data, 0f, gain * MathF.Sqrt(2f / (fanIn + fanOut)));
    }

    /// <summary>
    /// PyTorch's default for Linear and Conv weights: kaiming_uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    /// </summary>
    public static void DefaultWeight(Tensor w, Rng rng)
    {
        var (fanIn, _) = Fans(w);
        float bound = fanIn > 0 ? 1f / MathF.Sqrt(fanIn) : 0f;
        rng.Uniform(w.Data, -bound, bound);
    }

    /// <summary>(fan_in, fan_out) of a [out, in, k...] weight, as torch.nn.init computes them.</summary>
    public static (int FanIn, int FanOut) Fans(Tensor w)
    {
        if (w.Rank < 2) throw new ArgumentException($"Fan computation needs at least 2 dimensions, got {Tensor.FormatShape(w.ShapeSpan)}.");
        int receptive = 1;
        for (int i = 2; i < w.Rank; i++) receptive *= w.Dim(i);
        return (w.Dim(1) * receptive, w.Dim(0) * receptive);
    }
}
