using System.Numerics.Tensors;

namespace CrossModal.Tensors.Optim;

/// <summary>
/// torch.optim.Adam (and AdamW with <see cref="DecoupledWeightDecay"/>), single-tensor semantics of PyTorch 1.13:
/// g += wd * p (Adam only); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). AdamW first multiplies p by (1 - lr * wd).
/// As in PyTorch, t counts the steps at which that parameter had a gradient (a parameter without one is skipped
/// and its count does not advance), so it can differ from <see cref="Optimizer.StepCount"/>.
/// </summary>
public class Adam : Optimizer
{
    private readonly Tensor[] _m, _v;
    private readonly Tensor[] _step; // rank-0 per-parameter step counts (float, as PyTorch's state['step'])

    /// <summary>Creates Adam with PyTorch's defaults (betas 0.9/0.999, eps 1e-8, no weight decay).</summary>
    public Adam(IEnumerable<(string Name, Tensor Tensor)> parameters, float learningRate = 1e-3f, float beta1 = 0.9f,
        float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f)
        : base(parameters, learningRate)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        _m = Parameters.Select(p => Tensor.Zeros(p.Tensor.Shape)).ToArray();
        _v = Parameters.Select(p => Tensor.Zeros(p.Tensor.Shape)).ToArray();
        _step = Parameters.Select(_ => Tensor.Zeros()).ToArray();
    }

    /// <summary>First-moment decay.</summary>
    public float Beta1 { get; }

    /// <summary>Second-moment decay.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator.</summary>
    public float Eps { get; }

    /// <summary>L2 penalty (Adam) or decoupled decay (AdamW).</summary>
    public float WeightDecay { get; }

    /// <summary>True for AdamW.</summary>
    protected virtual bool DecoupledWeightDecay => false;

    /// <inheritdoc/>
    public override void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i].Tensor;
            if (p.Grad is null) continue;
            double t = ++_step[i].Data[0];
            // Bias corrections in double, as PyTorch computes them in Python floats.
            double bc1 = 1.0 - Math.Pow(Beta1, t);
            double bc2 = 1.0 - Math.Pow(Beta2, t);
            float stepSize = (float)(LearningRate / bc1);
            float bc2Sqrt = (float)Math.Sqrt(bc2);
            var pd = p.Data;
            var g = p.Grad.Data;
            var m = _m[i].Data;
            var v = _v[i].Data;
            if (DecoupledWeightDecay && WeightDecay != 0f) TensorPrimitives.Multiply(pd, 1f - LearningRate * WeightDecay, pd);
            for (int j = 0; j < pd.Length; j++)
            {
                float gj = g[j];
                if (!DecoupledWeightDecay && WeightDecay != 0f) gj += WeightDecay * pd[j];
                // torch: exp_avg.mul_(b1).add_(g, alpha=1-b1); exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2)
                m[j] = m[j] * Beta1 + gj * (1f - Beta1);
                v[j] = v[j] * Beta2 + gj * gj * (1f - Beta2);
                float denom = MathF.Sqrt(v[j]) / bc2Sqrt + Eps;
                pd[j] += -stepSize * (m[j] / denom);
            }
        }
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Tensor)> StateTensors()
    {
        for (int i = 0; i < Parameters.Count; i++) yield return ("exp_avg." + Parameters[i].Name, _m[i]);
        for (int i = 0; i < Parameters.Count; i++) yield return ("exp_avg_sq." + Parameters[i].Name, _v[i]);
        for (int i = 0; i < Parameters.Count; i++) yield return ("step." + Parameters[i].Name, _step[i]);
    }
}
