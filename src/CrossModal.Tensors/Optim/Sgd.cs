namespace CrossModal.Tensors.Optim;

/// <summary>
/// torch.optim.SGD: d = g + wd * p; with momentum, buf = d on the first step, then buf = momentum * buf + (1 - dampening) * d;
/// p -= lr * (nesterov ? d + momentum * buf : buf). "The first step" is per parameter: the first at which it had a
/// gradient. That per-parameter count is part of <see cref="StateTensors"/>, so a resumed run continues the momentum
/// buffer instead of restarting it.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor[] _buf;
    private readonly Tensor[] _step; // rank-0 per-parameter counts of steps taken with a gradient

    /// <summary>Creates SGD.</summary>
    public Sgd(IEnumerable<(string Name, Tensor Tensor)> parameters, float learningRate, float momentum = 0f,
        float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : base(parameters, learningRate)
    {
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _buf = Parameters.Select(p => Tensor.Zeros(p.Tensor.Shape)).ToArray();
        _step = Parameters.Select(_ => Tensor.Zeros()).ToArray();
    }

    /// <summary>Momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>Dampening of the momentum.</summary>
    public float Dampening { get; }

    /// <summary>L2 penalty.</summary>
    public float WeightDecay { get; }

    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    public override void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i].Tensor;
            if (p.Grad is null) continue;
            var pd = p.Data;
            var g = p.Grad.Data;
            var buf = _buf[i].Data;
            bool started = _step[i].Data[0] > 0f;
            for (int j = 0; j < pd.Length; j++)
            {
                float d = g[j];
                if (WeightDecay != 0f) d += WeightDecay * pd[j];
                if (Momentum != 0f)
                {
                    buf[j] = started ? buf[j] * Momentum + (1f - Dampening) * d : d;
                    d = Nesterov ? d + Momentum * buf[j] : buf[j];
                }
                pd[j] += -LearningRate * d;
            }
            _step[i].Data[0] += 1f;
        }
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Tensor)> StateTensors()
    {
        for (int i = 0; i < Parameters.Count; i++) yield return ("momentum_buffer." + Parameters[i].Name, _buf[i]);
        for (int i = 0; i < Parameters.Count; i++) yield return ("step." + Parameters[i].Name, _step[i]);
    }
}
