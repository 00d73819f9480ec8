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
        var hinge = HingeLoss(_model.Scores(images, captions, batch.Lengths), step);
        terms["hinge"] = hinge.ToScalar();
        float weight = _model.VsrnConfig.CaptionWeight;
        if (!_model.CanCaption || weight == 0f) return hinge;
        var nll = _model.CaptionLoss(regions, batch.Tokens, batch.Lengths, batch.MaxLength);
        terms["caption"] = nll.ToScalar();
        return Ops.Add(hinge, weight == 1f ? nll : Ops.MulScalar(nll, weight));
    }
}
