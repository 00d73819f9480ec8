using CrossModal.Data;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Optim;

namespace CrossModal.Models.Acmr;

/// <summary>
/// The training step of the adversarial category models: the min-max game between the encoders (with the classifier
/// and, in MASLN, the decoders: the "generator") and the modality discriminator, played by alternating steps with two
/// named optimizers. Per batch:
/// <list type="number">
/// <item>discriminator step ("discriminator", Adam at dis_learning_rate): codes of the batch without gradient, then
/// L_D = BCE(D(c_img), 1) + BCE(D(c_txt), 0), one step of the discriminator's parameters only;</item>
/// <item>generator step ("generator", Adam at the recipe's learning_rate), against the discriminator just updated:
/// lambda_corr L_corr + lambda_dis L_dis + lambda_adv L_adv (+ the family's terms, MASLN's lambda_rec L_rec), with
/// L_adv = BCE(D(c_img), 0) + BCE(D(c_txt), 1), the encoders' loss with flipped modality labels; one step of every
/// parameter except the discriminator's.</item>
/// </list>
/// Why alternating steps rather than a gradient-reversal layer: each player keeps its own optimizer and learning
/// rate (their Adam moments never mix, and checkpoints save and restore each by name); the generator learns from the
/// discriminator's latest state; and its flipped-label loss keeps a useful gradient when the discriminator is
/// confident, where reversing the discriminator's own gradient (the minimax -L_D) vanishes. The extra cost is one
/// forward pass of the small encoders without gradient. Without a discriminator (MASLN's ablation) the step is the
/// generator step alone.
/// </summary>
public class AdversarialObjective : TrainingObjective
{
    /// <summary>
    /// The recipe defaults of both adversarial families: batch 64 (ACMR's), Adam 1e-3, 20 epochs without decay, no
    /// clipping (the losses are bounded: tanh codes, cross-entropies); see Models/Masln/README.md for the measurements.
    /// </summary>
    public static TrainingRecipe DefaultRecipe { get; } = new() { BatchSize = 64, LearningRate = 1e-3f, NumEpochs = 20, LrUpdate = 1000, GradClip = 0f };

    private readonly Adam _generator;
    private readonly Adam? _discriminator;
    private readonly List<Tensor> _generatorParameters, _discriminatorParameters;

    /// <summary>The objective for <paramref name="model"/>.</summary>
    public AdversarialObjective(AcmrModel model, TrainingRecipe recipe) : base(recipe)
    {
        Model = model;
        Config = (AcmrConfig)model.Config;
        var generator = model.NamedParameters().Where(p => !p.Name.StartsWith(AcmrModel.DiscriminatorPrefix, StringComparison.Ordinal)).ToList();
        var discriminator = model.NamedParameters().Where(p => p.Name.StartsWith(AcmrModel.DiscriminatorPrefix, StringComparison.Ordinal)).ToList();
        _generator = new Adam(generator, recipe.LearningRate);
        _generatorParameters = generator.Select(p => p.Tensor).ToList();
        _discriminatorParameters = discriminator.Select(p => p.Tensor).ToList();
        var optimizers = new List<NamedOptimizer> { new(GeneratorName, _generator, recipe.LearningRate) };
        if (model.Discriminator is not null)
        {
            _discriminator = new Adam(discriminator, Config.DisLearningRate);
            optimizers.Add(new NamedOptimizer(DiscriminatorName, _discriminator, Config.DisLearningRate));
        }
        Optimizers = optimizers;
    }

    /// <summary>Checkpoint name of the encoders' (generator's) optimizer.</summary>
    public const string GeneratorName = "generator";

    /// <summary>Checkpoint name of the discriminator's optimizer.</summary>
    public const string DiscriminatorName = "discriminator";

    /// <summary>The model being trained.</summary>
    protected AcmrModel Model { get; }

    /// <summary>Its configuration (the loss weights).</summary>
    protected AcmrConfig Config { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<NamedOptimizer> Optimizers { get; }

    /// <inheritdoc/>
    public override StepResult Step(IBatch batch, TrainingStep step)
    {
        var b = batch as LabelledBatch ?? throw new ArgumentException($"{GetType().Name} trains on labelled pairs, got a {batch.GetType().Name}.");
        using var scope = TensorScope.Begin();
        var terms = new Dictionary<string, double>();
        if (_discriminator is not null)
        {
            Tensor images, texts;
            using (Tape.NoGrad())
            {
                images = Model.EncodeImages(b.Images);
                texts = Model.EncodeTexts(b.Texts);
            }
            var modality = DiscriminatorLoss(images, texts);
            float d = modality.ToScalar();
            terms["modality"] = d;
            if (!float.IsFinite(d)) return new StepResult(d, terms);
            _discriminator.ZeroGrad();
            Tape.Backward(modality);
            Update(_discriminator, _discriminatorParameters, step);
        }
        var loss = GeneratorLoss(b, terms);
        float value = loss.ToScalar();
        if (!float.IsFinite(value)) return new StepResult(value, terms);
        _generator.ZeroGrad();
        Tape.Backward(loss);
        Update(_generator, _generatorParameters, step);
        return new StepResult(value, terms);
    }

    private void Update(Adam optimizer, List<Tensor> parameters, TrainingStep step)
    {
        step.AfterBackward?.Invoke(parameters);
        if (Recipe.GradClip > 0) GradClip.ClipByTotalNorm(parameters, Recipe.GradClip);
        optimizer.Step();
    }

    /// <summary>The discriminator's loss L_D = BCE(D(c_img), 1) + BCE(D(c_txt), 0) (images are labelled 1).</summary>
    public Tensor DiscriminatorLoss(Tensor imageCodes, Tensor textCodes)
    {
        var d = Model.Discriminator ?? throw new InvalidOperationException("The model has no discriminator.");
        return Ops.Add(CategoryLosses.SigmoidCrossEntropy(d.Forward(imageCodes), 1f), CategoryLosses.SigmoidCrossEntropy(d.Forward(textCodes), 0f));
    }

    /// <summary>
    /// The generator's loss of one batch (inside the step's scope), recording each weighted term's unweighted value:
    /// "corr", "dis", "adv" here; a family adds its own by overriding <see cref="ExtraLoss"/>.
    /// </summary>
    public Tensor GeneratorLoss(LabelledBatch batch, IDictionary<string, double> terms)
    {
        var images = Model.EncodeImages(batch.Images);
        var texts = Model.EncodeTexts(batch.Texts);
        var corr = CategoryLosses.PairDistance(images, texts);
        var dis = Ops.Add(CategoryLosses.CrossEntropy(Model.Classifier.Forward(images), batch.Labels),
            CategoryLosses.CrossEntropy(Model.Classifier.Forward(texts), batch.Labels));
        terms["corr"] = corr.ToScalar();
        terms["dis"] = dis.ToScalar();
        var loss = Ops.Add(Ops.MulScalar(corr, Config.LambdaCorr), Ops.MulScalar(dis, Config.LambdaDis));
        if (Model.Discriminator is { } d)
        {
            var adv = Ops.Add(CategoryLosses.SigmoidCrossEntropy(d.Forward(images), 0f), CategoryLosses.SigmoidCrossEntropy(d.Forward(texts), 1f));
            terms["adv"] = adv.ToScalar();
            loss = Ops.Add(loss, Ops.MulScalar(adv, Config.LambdaAdv));
        }
        return ExtraLoss(batch, images, texts, loss, terms);
    }

    /// <summary>Adds a family's own weighted terms to <paramref name="loss"/> (nothing for ACMR-style).</summary>
    protected virtual Tensor ExtraLoss(LabelledBatch batch, Tensor imageCodes, Tensor textCodes, Tensor loss, IDictionary<string, double> terms) => loss;
}
