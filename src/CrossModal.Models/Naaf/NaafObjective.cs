using CrossModal.Data;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Models.Naaf;

/// <summary>
/// NAAF's training step: the hinge loss with hardest negatives on the scores of the training forward, which runs the
/// threshold learning (<see cref="NaafModel.Scores"/> in training mode). Besides the hinge term it reports the
/// threshold state after the step (<c>thres</c>, <c>thres_safe</c>, and the distribution statistics it is computed
/// from: <c>mean_pos</c>, <c>stnd_pos</c>, <c>mean_neg</c>, <c>stnd_neg</c>) and the step's threshold updates
/// (<c>thres_updates</c>) as named terms, so metrics.jsonl holds their per-epoch means next to the loss: the learned
/// threshold's trajectory (the epoch's last values are the checkpoint's buffers). These terms are not added to the loss.
/// </summary>
public sealed class NaafObjective : HingeObjective
{
    private readonly NaafModel _model;

    /// <summary>The objective for <paramref name="model"/>.</summary>
    public NaafObjective(NaafModel model, TrainingRecipe recipe) : base(model, recipe) => _model = model;

    /// <summary>
    /// Data-parallel: every rank scores the whole global batch from the gathered images and captions, because the
    /// training forward updates the threshold from the whole score matrix, caption by caption; computed from the same
    /// inputs on every rank, it stays the one-process threshold on all of them.
    /// </summary>
    protected override bool ScoresShardedByImage => false;

    /// <inheritdoc/>
    protected override Tensor Loss(Batch batch, TrainingStep step, IDictionary<string, double> terms)
    {
        var loss = base.Loss(batch, step, terms);
        terms["thres"] = _model.Threshold.Thres;
        terms["thres_safe"] = _model.Threshold.ThresSafe;
        terms["mean_pos"] = _model.Threshold.MeanPos;
        terms["stnd_pos"] = _model.Threshold.StndPos;
        terms["mean_neg"] = _model.Threshold.MeanNeg;
        terms["stnd_neg"] = _model.Threshold.StndNeg;
        terms["thres_updates"] = _model.LastMining?.Updates ?? 0;
        return loss;
    }
}
