using CrossModal.Data;
using CrossModal.Distributed;
using CrossModal.Distributed.Autograd;
using CrossModal.Models.Loss;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Optim;

namespace CrossModal.Models.Objectives;

/// <summary>
/// The field's training step (VSE++/SCAN's train_emb): encode the batch's images and captions, score every pair,
/// the hinge loss with hardest negatives (§3 of the methods reference), backward, clip the total gradient norm, one
/// Adam step over every parameter. Families with extra loss terms override <see cref="Loss"/>.
/// <para>
/// Data-parallel training needs nothing from a family as long as its <see cref="Loss"/> scores through
/// <see cref="MatchingLoss"/> and sums per-sample terms through <see cref="SumOverRanks"/>: each rank encodes its
/// share of the global batch, <see cref="MatchingLoss"/> gathers what the score matrix of the whole global batch needs,
/// and from there every rank computes the same loss; the ranks' gradients, summed at the step's AfterBackward seam,
/// are the one-process gradient. BatchNorm layers in training mode normalise over the global batch: the step attaches
/// <see cref="BatchStatisticsOverRanks"/> to every one of the model's for its duration.
/// </para>
/// </summary>
public class HingeObjective : TrainingObjective
{
    private readonly Adam _adam;
    private readonly List<Tensor> _listed, _distinct;
    private int _globalRows;

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

    /// <summary>
    /// In data-parallel training, whether each rank scores only its own images against every caption of the global
    /// batch (true: the score matrix's cost, SCAN's cross attention, is divided among the ranks; the rows are then
    /// gathered) or every rank scores the whole matrix from gathered images and captions (false). Override with false
    /// for a family whose scoring must see the whole batch at once (NAAF's threshold mining updates the model from
    /// the whole score matrix inside the forward pass; computed on every rank from the same inputs, it stays the same
    /// on every rank).
    /// </summary>
    protected virtual bool ScoresShardedByImage => true;

    /// <inheritdoc/>
    public override StepResult Step(IBatch batch, TrainingStep step)
    {
        var b = batch as Batch ?? throw new ArgumentException($"{GetType().Name} trains on precomp batches, got a {batch.GetType().Name}.");
        if (b.Shard is not null && step.Ranks?.Size != b.Shard.Ranks)
            throw new ArgumentException($"The batch is rank {b.Shard.Rank}'s share of {b.Shard.Ranks} ranks, but the step runs on {step.Ranks?.Size ?? 1}.");
        _globalRows = GlobalBatchSize(b);
        // BatchNorm layers (VSRN's) normalise over the global batch, as in one process.
        using var batchNorm = BatchStatisticsOverRanks.Attach(Model, step.Ranks);
        using var scope = TensorScope.Begin();
        using var overlap = step.BeforeForward?.Invoke(_distinct);
        var terms = new Dictionary<string, double>();
        var loss = Loss(b, step, terms);
        float value = loss.ToScalar();
        // In data-parallel training the loss is the same on every rank (see MatchingLoss), so all ranks stop here together.
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
        var hinge = MatchingLoss(images, captions, batch, step);
        terms["hinge"] = hinge.ToScalar();
        return hinge;
    }

    /// <summary>
    /// The hinge loss of the global batch's score matrix from this rank's encoded images and captions (in one
    /// process: the batch's). In data-parallel training the captions (word vectors of different lengths for SCAN-like
    /// models: only the valid ones travel) are all-gathered, each rank scores its images against all of them, and the
    /// score rows are all-gathered: every rank then computes the same B x B loss, hardest negatives over the whole
    /// global batch. The gathers are differentiable: the captions' gradient is reduce-scattered back to the ranks that
    /// encoded them (see <see cref="GatheredUse"/>).
    /// </summary>
    protected Tensor MatchingLoss(Tensor images, Tensor captions, Batch batch, TrainingStep step)
    {
        if (batch.Shard is not { } shard) return HingeLoss(Model.Scores(images, captions, batch.Lengths), step);
        var ranks = step.Ranks!;
        var rows = new int[shard.Ranks][];
        for (int r = 0; r < rows.Length; r++) rows[r] = shard.Rows(r);
        var imageRows = new RowLayout(rows, shard.GlobalSize);
        var captionRows = new RowLayout(rows, shard.GlobalSize, captions.Rank == 3 ? shard.GlobalLengths : null);
        if (ScoresShardedByImage)
        {
            var allCaptions = DistributedOps.AllGatherRows(ranks, captions, captionRows, GatheredUse.PerRank);
            var myRows = Model.Scores(images, allCaptions, shard.GlobalLengths);
            return HingeLoss(DistributedOps.AllGatherRows(ranks, myRows, imageRows, GatheredUse.Replicated), step);
        }
        var allImages = DistributedOps.AllGatherRows(ranks, images, imageRows, GatheredUse.Replicated);
        var everyCaption = DistributedOps.AllGatherRows(ranks, captions, captionRows, GatheredUse.Replicated);
        return HingeLoss(Model.Scores(allImages, everyCaption, shard.GlobalLengths), step);
    }

    /// <summary>
    /// The hinge loss of the global batch's B x B score matrix with this epoch's negatives (hardest or all). In
    /// data-parallel training a matrix of this rank's rows only is refused: score through <see cref="MatchingLoss"/>.
    /// </summary>
    protected Tensor HingeLoss(Tensor scores, TrainingStep step)
    {
        if (scores.Rank == 2 && scores.Dim(0) != _globalRows && step.Ranks is { Size: > 1 })
            throw new InvalidOperationException($"{GetType().Name}: the score matrix has {scores.Dim(0)} rows, the global batch {_globalRows}: in data-parallel training score through MatchingLoss(images, captions, batch, step), which gathers the other ranks' rows, so that the hardest negatives come from the whole batch.");
        return ContrastiveLoss.Compute(scores, Recipe.Margin, Recipe.MaxViolationAt(step.Epoch));
    }

    /// <summary>
    /// A loss term that sums over samples (VSRN's caption NLL), from this rank's partial sum over its rows: the sum over
    /// all ranks, the same on every rank. In one process the partial sum itself.
    /// </summary>
    protected static Tensor SumOverRanks(Tensor localSum, TrainingStep step) =>
        step.Ranks is { Size: > 1 } ranks ? DistributedOps.SumOverRanks(ranks, localSum) : localSum;

    /// <summary>Rows of the global batch (what a per-sample mean divides by; the batch's own size in one process).</summary>
    protected static int GlobalBatchSize(Batch batch) => batch.Shard?.GlobalSize ?? batch.Size;
}
