using CrossModal.Data;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// VSRN's training step (train_emb): the hinge loss of the two embeddings plus caption_weight x the caption NLL of
/// the caption branch on the same batch, one backward, clipping, one Adam step.
/// <para>
/// The original's quirk, kept by default because the published numbers were trained with it: its optimizer's
/// parameter list is text encoder + image encoder + decoder + encoder + caption_model, and caption_model holds the
/// same encoder and decoder parameters again. So every captioning parameter is listed twice: clip_grad_norm_ counts
/// its gradient twice in the total norm and multiplies it by the clipping factor twice, and Adam updates it twice
/// per iteration (its step count advancing by 2). <c>--caption-params-once</c> lists them once.
/// </para>
/// <para>
/// Data-parallel training gives one process's step: the hinge loss sees the global batch (<see cref="HingeObjective.MatchingLoss"/>),
/// the BatchNorm layers normalise over it (<see cref="HingeObjective"/> synchronises them), the caption branch's
/// dropout masks are the rows' slices of the global batch's masks, and the caption NLL is each rank's rows' sum over
/// the global batch size, summed over the ranks.
/// </para>
/// </summary>
public sealed class VsrnObjective : HingeObjective
{
    private readonly VsrnModel _model;

    /// <summary>The objective for <paramref name="model"/>.</summary>
    public VsrnObjective(VsrnModel model, TrainingRecipe recipe) : base(model, recipe, ParameterList(model))
    {
        _model = model;
    }

    /// <summary>Every parameter in state-dict order, then (unless caption_params_once) the captioning ones again.</summary>
    internal static IReadOnlyList<(string Name, Tensor Tensor)> ParameterList(VsrnModel model)
    {
        var list = model.NamedParameters().ToList();
        if (!model.VsrnConfig.CaptionParamsOnce) list.AddRange(model.CaptioningParameters());
        return list;
    }

    /// <inheritdoc/>
    protected override Tensor Loss(Batch batch, TrainingStep step, IDictionary<string, double> terms)
    {
        var (images, regions) = _model.EncodeImagesWithRegions(batch.Images);
        var captions = _model.EncodeCaptions(batch.Tokens, batch.Lengths, batch.MaxLength);
        var hinge = MatchingLoss(images, captions, batch, step);
        terms["hinge"] = hinge.ToScalar();
        float weight = _model.VsrnConfig.CaptionWeight;
        if (!_model.CanCaption || weight == 0f) return hinge;
        // Data-parallel: each rank's rows' NLL over the global batch size, summed over the ranks (the one-process NLL).
        var nll = SumOverRanks(_model.CaptionLoss(regions, batch.Tokens, batch.Lengths, batch.MaxLength, batch.Shard), step);
        terms["caption"] = nll.ToScalar();
        return Ops.Add(hinge, weight == 1f ? nll : Ops.MulScalar(nll, weight));
    }
}
