using CrossModal.Data;
using CrossModal.Tensors.Optim;

namespace CrossModal.Models.Objectives;

/// <summary>
/// A family's training step: given a batch, run the forward pass, the backward pass and the optimizer steps (one
/// optimizer for the hinge loss; several, alternating, for an adversarial model), and report the loss. Anything a
/// family updates inside its forward pass (NAAF's threshold) happens inside <see cref="Step"/>, so the trainer's run
/// loop has no special cases. The optimizers are named: checkpoints save and restore each one by name.
/// </summary>
public abstract class TrainingObjective
{
    /// <summary>Creates the objective for <paramref name="recipe"/>.</summary>
    protected TrainingObjective(TrainingRecipe recipe)
    {
        recipe.Validate();
        Recipe = recipe;
    }

    /// <summary>The hyper-parameters of the optimisation.</summary>
    public TrainingRecipe Recipe { get; }

    /// <summary>The optimizers, each with its checkpoint name.</summary>
    public abstract IReadOnlyList<NamedOptimizer> Optimizers { get; }

    /// <summary>
    /// Called before the first step of 0-based <paramref name="epoch"/>: the originals' step decay of every
    /// optimizer's learning rate, lr0 x 0.1^(epoch / lr_update).
    /// </summary>
    public virtual void BeginEpoch(int epoch)
    {
        foreach (var o in Optimizers) new StepLr(o.InitialLearningRate, Recipe.LrUpdate).Apply(o.Optimizer, epoch);
    }

    /// <summary>One step on <paramref name="batch"/> (a <see cref="Batch"/> for instance-level families).</summary>
    public abstract StepResult Step(IBatch batch, TrainingStep step);
}
