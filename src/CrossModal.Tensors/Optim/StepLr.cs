namespace CrossModal.Tensors.Optim;

/// <summary>
/// The field's step decay: lr(epoch) = lr0 * gamma^(epoch / stepSize) (integer division), set at the start of
/// each epoch (VSE++/SCAN's adjust_learning_rate).
/// </summary>
public sealed class StepLr(float initialLearningRate, int stepSize, float gamma = 0.1f)
{
    /// <summary>lr0.</summary>
    public float InitialLearningRate { get; } = initialLearningRate;

    /// <summary>Epochs between decays.</summary>
    public int StepSize { get; } = stepSize > 0 ? stepSize : throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "Step size must be positive.");

    /// <summary>Decay factor.</summary>
    public float Gamma { get; } = gamma;

    /// <summary>The learning rate for a 0-based epoch.</summary>
    public float LearningRateAt(int epoch) => InitialLearningRate * MathF.Pow(Gamma, epoch / StepSize);

    /// <summary>Sets <paramref name="optimizer"/>'s learning rate for <paramref name="epoch"/>.</summary>
    public void Apply(Optimizer optimizer, int epoch) => optimizer.LearningRate = LearningRateAt(epoch);
}
