using CrossModal.Data;
using CrossModal.Models.Acmr;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Models.Masln;

/// <summary>
/// MASLN's training step: the alternating adversarial step of <see cref="AdversarialObjective"/> whose generator
/// loss adds lambda_rec x L_rec, L_rec = the mean of the four reconstructions' mean squared errors (image and text
/// features, each reconstructed from the image code and from the text code, with the class embedding), measured on
/// the standardised features the encoders see.
/// </summary>
public sealed class MaslnObjective : AdversarialObjective
{
    private readonly MaslnModel _model;
    private readonly MaslnConfig _config;

    /// <summary>The objective for <paramref name="model"/>.</summary>
    public MaslnObjective(MaslnModel model, TrainingRecipe recipe) : base(model, recipe)
    {
        _model = model;
        _config = (MaslnConfig)model.Config;
    }

    /// <inheritdoc/>
    protected override Tensor ExtraLoss(LabelledBatch batch, Tensor imageCodes, Tensor textCodes, Tensor loss, IDictionary<string, double> terms)
    {
        if (!_config.UsesReconstruction) return loss;
        var rec = ReconstructionLoss(batch, imageCodes, textCodes);
        terms["rec"] = rec.ToScalar();
        return Ops.Add(loss, Ops.MulScalar(rec, _config.LambdaRec));
    }

    /// <summary>L_rec of one batch: (1/4) sum over codes {image, text} and targets {image, text} of the mean squared error.</summary>
    public Tensor ReconstructionLoss(LabelledBatch batch, Tensor imageCodes, Tensor textCodes)
    {
        var images = _model.StandardizeImages(batch.Images);
        var texts = _model.StandardizeTexts(batch.Texts);
        Tensor? sum = null;
        foreach (var codes in new[] { imageCodes, textCodes })
        {
            var (ri, rt) = _model.Reconstruct(codes, batch.ClassEmbeddings);
            var both = Ops.Add(MeanSquaredError(ri, images), MeanSquaredError(rt, texts));
            sum = sum is null ? both : Ops.Add(sum, both);
        }
        return Ops.MulScalar(sum!, 0.25f);
    }

    private static Tensor MeanSquaredError(Tensor prediction, Tensor target)
    {
        var d = Ops.Sub(prediction, target);
        return Ops.MulScalar(Ops.SumAll(Ops.Mul(d, d)), 1f / prediction.Length);
    }
}
