namespace CrossModal.Tensors.Optim;

/// <summary>
/// Base of the optimizers: a list of named parameters, a learning rate, and per-parameter state that can be
/// saved and restored (checkpoint resume).
/// </summary>
public abstract class Optimizer
{
    /// <summary>Creates the optimizer over <paramref name="parameters"/> (name, tensor) pairs.</summary>
    protected Optimizer(IEnumerable<(string Name, Tensor Tensor)> parameters, float learningRate)
    {
        Parameters = parameters.ToList();
        LearningRate = learningRate;
    }

    /// <summary>The optimised parameters with their names.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> Parameters { get; }

    /// <summary>The current learning rate (schedules change it between steps).</summary>
    public float LearningRate { get; set; }

    /// <summary>Number of steps taken.</summary>
    public long StepCount { get; protected set; }

    /// <summary>Applies one update from the parameters' gradients (parameters without a gradient are skipped).</summary>
    public abstract void Step();

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in Parameters) p.ZeroGrad();
    }

    /// <summary>Per-parameter state tensors, named "{kind}.{parameter}" (e.g. "exp_avg.rnn.weight_ih_l0").</summary>
    public abstract IEnumerable<(string Name, Tensor Tensor)> StateTensors();

    /// <summary>Restores state saved by <see cref="StateTensors"/> and the step count.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount)
    {
        foreach (var (name, t) in StateTensors())
        {
            if (!state.TryGetValue(name, out var src))
                throw new InvalidDataException($"Optimizer state entry '{name}' is missing.");
            if (!src.SameShape(t))
                throw new InvalidDataException($"Optimizer state entry '{name}' has shape {Tensor.FormatShape(src.ShapeSpan)}, expected {Tensor.FormatShape(t.ShapeSpan)}.");
            src.Data.CopyTo(t.Data);
        }
        StepCount = stepCount;
    }
}
