using CrossModal.Data;
using CrossModal.Models.Loss;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Optim;

namespace CrossModal.Models.Objectives;

/// <summary>
/// The field's training step (VSE++/SCAN's train_emb): encode the batch's images and captions, score every pair,
/// the hinge loss with hardest negatives (§3 of the methods reference), backward, clip the total gradient norm, one
/// Adam step over every parameter. Families with extra loss terms override <see cref="Loss"/>.
/// </summary>
public class HingeObjective : TrainingObjective
{
    private readonly Adam _adam;
    private readonly List<Tensor> _listed, _distinct;

    /// <summary>The objective for <paramref name="model"/>: one Adam over every parameter.</summary>
    public HingeObjective(MatchingModel model, TrainingRecipe recipe) : this(model, recipe, model.NamedParameters().ToList())
    {
    }

    /// <summary>
    /// The objective with an explicit optimizer parameter list, for a family whose original lists parameters
    /// differently. A parameter listed twice behaves as in torch.optim and clip_grad_norm_: its gradient counts
    /// twice in the total norm and is scaled twice, and Adam steps it twice (VSRN's captioning parameters).
    /// </summary>
    protected HingeObjective(MatchingModel model, TrainingRecipe recipe, IReadOnlyList<(string Name, Tensor Tensor)> parameters) : base(recipe)
    {
        Model = model;
        _adam = new Adam(parameters, recipe.LearningRate);
        _listed = parameters.Select(p => p.Tensor).ToList();
        _distinct = model.Parameters();
        Optimizers = [new NamedOptimizer("adam", _adam, recipe.LearningRate)];
    }

    /// <summary>The model being trained.</summary>
    protected MatchingModel Model { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<NamedOptimizer> Optimizers { get; }

    /// <inheritdoc/>
    public override StepResult Step(IBatch batch, TrainingStep step)
    {
        var b = batch as Batch ?? throw new ArgumentException($"{GetType().Name} trains on precomp batches, got a {batch.GetType().Name}.");
        using var scope = TensorScope.Begin();
        var terms = new Dictionary<string, double>();
        var loss = Loss(b, step, terms);
        float value = loss.ToScalar();
        if (!float.IsFinite(value)) return new StepResult(value, terms);
        _adam.ZeroGrad();
        Tape.Backward(loss);
        step.AfterBackward?.Invoke(_distinct);
        if (Recipe.GradClip > 0) GradClip.ClipByTotalNorm(_listed, Recipe.GradClip);
        _adam.Step();
        return new StepResult(value, terms);
    }

    /// <summary>
    /// The differentiable loss of one batch (inside the step's tensor scope); records its terms by name. The hinge
    /// loss of the batch's score matrix by default.
    /// </summary>
    protected virtual Tensor Loss(Batch batch, TrainingStep step, IDictionary<string, double> terms)
    {
        var images = Model.EncodeImages(batch.Images);
        var captions = Model.EncodeCaptions(batch.Tokens, batch.Lengths, batch.MaxLength);
        var hinge = HingeLoss(Model.Scores(images, captions, batch.Lengths), step);
        terms["hinge"] = hinge.ToScalar();
        return hinge;
    }

    /// <summary>The hinge loss of a B x B score matrix with this epoch's negatives (hardest or all).</summary>
    protected Tensor HingeLoss(Tensor scores, TrainingStep step) => ContrastiveLoss.Compute(scores, Recipe.Margin, Recipe.MaxViolationAt(step.Epoch));
}
