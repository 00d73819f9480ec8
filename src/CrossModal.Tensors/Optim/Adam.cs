using System.Numerics.Tensors;

namespace CrossModal.Tensors.Optim;

/// <summary>
/// torch.optim.Adam (and AdamW with <see cref="DecoupledWeightDecay"/>), single-tensor semantics of PyTorch 1.13:
/// g += wd * p (Adam only); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). AdamW first multiplies p by (1 - lr * wd).
/// As in PyTorch, t counts the steps at which that parameter had a gradient (a parameter without one is skipped
/// and its count does not advance), so it can differ from <see cref="Optimizer.StepCount"/>. A tensor listed twice
/// shares one state and is updated twice per <see cref="Step"/>, one update after the other with the same
/// gradient, its t advancing by 2, as torch.optim does with such a list (VSRN's original parameter list).
/// </summary>
public class Adam : Optimizer
{
    private readonly Tensor[] _m, _v;
    private readonly Tensor[] _step; // rank-0 per-state step counts (float, as PyTorch's state['step'])
    private readonly int[] _state;   // the state slot of each listed parameter (a tensor listed twice shares one)
    private readonly int[] _first;   // the first listed index of each state slot (its name in StateTensors)

    /// <summary>Creates Adam with PyTorch's defaults (betas 0.9/0.999, eps 1e-8, no weight decay).</summary>
    public Adam(IEnumerable<(string Name, Tensor Tensor)> parameters, float learningRate = 1e-3f, float beta1 = 0.9f,
        float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f)
        : base(parameters, learningRate)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        _state = new int[Parameters.Count];
        var slots = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        var first = new List<int>();
        for (int i = 0; i < Parameters.Count; i++)
        {
            if (!slots.TryGetValue(Parameters[i].Tensor, out int slot))
            {
                slot = first.Count;
                slots[Parameters[i].Tensor] = slot;
                first.Add(i);
            }
            _state[i] = slot;
        }
        _first = first.ToArray();
        _m = _first.Select(i => Tensor.Zeros(Parameters[i].Tensor.Shape)).ToArray();
        _v = _first.Select(i => Tensor.Zeros(Parameters[i].Tensor.Shape)).ToArray();
        _step = _first.Select(_ => Tensor.Zeros()).ToArray();
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
            int slot = _state[i];
            double t = ++_step[slot].Data[0];
            // Bias corrections in double, as PyTorch computes them in Python floats.
            double bc1 = 1.0 - Math.Pow(Beta1, t);
            double bc2 = 1.0 - Math.Pow(Beta2, t);
            float stepSize = (float)(LearningRate / bc1);
            float bc2Sqrt = (float)Math.Sqrt(bc2);
            var pd = p.Data;
            var g = p.Grad.Data;
            var m = _m[slot].Data;
            var v = _v[slot].Data;
            if (DecoupledWeightDecay && WeightDecay != 0f) TensorPrimitives.Multiply(pd, 1f - LearningRate * WeightDecay, pd);
            Update(pd, g, m, v, stepSize, bc2Sqrt);
        }
    }

    /// <summary>
    /// The element-wise update, vectorised in cache-sized blocks with PyTorch's operation order (each line below is
    /// one rounding step of torch's single-tensor Adam):
    /// g' = g + wd p (Adam's L2); m = m b1 + g' (1 - b1); v = v b2 + g'² (1 - b2); p += -stepSize · m / (sqrt(v) / sqrt(bc2) + eps).
    /// </summary>
    private void Update(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float stepSize, float bc2Sqrt)
    {
        const int Block = 2048;
        Span<float> grad = stackalloc float[Block];
        Span<float> tmp = stackalloc float[Block];
        bool l2 = !DecoupledWeightDecay && WeightDecay != 0f;
        for (int start = 0; start < p.Length; start += Block)
        {
            int n = Math.Min(Block, p.Length - start);
            var pb = p.Slice(start, n);
            var mb = m.Slice(start, n);
            var vb = v.Slice(start, n);
            var gb = grad[..n];
            var t = tmp[..n];
            if (l2) TensorPrimitives.MultiplyAdd(pb, WeightDecay, g.Slice(start, n), gb);
            else g.Slice(start, n).CopyTo(gb);
            TensorPrimitives.Multiply(mb, Beta1, mb);
            TensorPrimitives.MultiplyAdd(gb, 1f - Beta1, mb, mb);
            TensorPrimitives.Multiply(vb, Beta2, vb);
            TensorPrimitives.Multiply(gb, gb, t);
            TensorPrimitives.MultiplyAdd(t, 1f - Beta2, vb, vb);
            TensorPrimitives.Sqrt(vb, t);
            TensorPrimitives.Divide(t, bc2Sqrt, t);
            TensorPrimitives.Add(t, Eps, t);
            TensorPrimitives.Divide(mb, t, t);
            TensorPrimitives.MultiplyAdd(t, -stepSize, pb, pb);
        }
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Tensor)> StateTensors()
    {
        for (int s = 0; s < _first.Length; s++) yield return ("exp_avg." + Parameters[_first[s]].Name, _m[s]);
        for (int s = 0; s < _first.Length; s++) yield return ("exp_avg_sq." + Parameters[_first[s]].Name, _v[s]);
        for (int s = 0; s < _first.Length; s++) yield return ("step." + Parameters[_first[s]].Name, _step[s]);
    }
}
