using CrossModal.Models.Files;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Models;

/// <summary>
/// A method family (VSE++, SCAN, IMRAM, ...): everything the rest of CrossModal needs to know about it, so that no
/// code outside the family's folder and <see cref="ModelFamilies"/> matches on model names. A family says what data
/// it needs (<see cref="Task"/>, <see cref="ImageFeatures"/>), builds its model from its configuration record
/// (whose <see cref="FlagAttribute"/> properties are its command-line options), supplies its training step
/// (<see cref="CreateObjective"/>, the hinge loss by default), its validation measure, its published presets, and
/// its mapping from the original PyTorch checkpoints.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>The name in configurations and on the command line (<c>--model</c>): "vsepp", "scan", ...</summary>
    public abstract string Name { get; }

    /// <summary>One line for help texts: the method and its paper.</summary>
    public abstract string Description { get; }

    /// <summary>Instance-level (precomp, R@K) or category-level (labelled pairs, mAP).</summary>
    public virtual RetrievalTask Task => RetrievalTask.Instance;

    /// <summary>What the family needs of a precomp split's image features.</summary>
    public virtual ImageFeatures ImageFeatures => ImageFeatures.Regions;

    /// <summary>The configuration with the original code's defaults (its record type is the family's config type).</summary>
    public abstract ModelConfig DefaultConfig { get; }

    /// <summary>The family's configuration record type.</summary>
    public Type ConfigType => DefaultConfig.GetType();

    /// <summary>The training recipe of the original code's defaults (and of every published command line).</summary>
    public virtual TrainingRecipe DefaultRecipe => new() { MaxViolation = true };

    /// <summary>The published settings, named like "scan-t2i-avg".</summary>
    public virtual IReadOnlyList<Preset> Presets => Array.Empty<Preset>();

    /// <summary>How validation picks the best model (rsum by default; VSRN uses R1+R5; category models mAP).</summary>
    public virtual ValidationMeasure ValidationMeasure => ValidationMeasure.Rsum;

    /// <summary>
    /// Objective terms (keys of metrics.jsonl's "terms") that training_curve.svg draws per epoch in a second panel
    /// under the loss: values that are not losses but show how training went (NAAF's learned threshold). None by default.
    /// </summary>
    public virtual IReadOnlyList<string> CurveTerms => Array.Empty<string>();

    /// <summary>A freshly initialised model for <paramref name="config"/> (one of this family's records), drawing from <paramref name="rng"/>.</summary>
    public abstract RetrievalModel Create(ModelConfig config, Rng rng);

    /// <summary>
    /// Called once for a new training run's freshly created model, before its first step (not on resume, not when a
    /// trained model is loaded): starts weights from files the configuration names (NAAF's GloVe table). Errors are
    /// <see cref="InvalidDataException"/>s naming the file, or <see cref="ArgumentException"/>s for missing settings.
    /// </summary>
    public virtual void InitializeForTraining(RetrievalModel model)
    {
    }

    /// <summary>The training step for <paramref name="model"/>: by default the hinge loss on the batch's score matrix, one Adam.</summary>
    public virtual TrainingObjective CreateObjective(RetrievalModel model, TrainingRecipe recipe) =>
        new HingeObjective((MatchingModel)model, recipe);

    /// <summary>Whether an original PyTorch checkpoint was written by this family's code (judged from its options and weights).</summary>
    public virtual bool Recognizes(OriginalCheckpoint checkpoint) => false;

    /// <summary>
    /// The configuration and weights (under this family's model's state-dict names) of an original checkpoint; errors
    /// are <see cref="InvalidDataException"/>s (the caller adds the file name).
    /// </summary>
    public virtual ImportedModel Import(OriginalCheckpoint checkpoint) =>
        throw new InvalidDataException($"model '{Name}' cannot import original PyTorch checkpoints.");

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>
/// A family whose configuration record is <typeparamref name="TConfig"/> and whose model is <typeparamref name="TModel"/>:
/// the casts from the general contract happen here, once.
/// </summary>
public abstract class ModelFamily<TConfig, TModel> : ModelFamily
    where TConfig : ModelConfig
    where TModel : RetrievalModel
{
    /// <inheritdoc/>
    public sealed override ModelConfig DefaultConfig => Defaults;

    /// <summary>The typed default configuration.</summary>
    protected abstract TConfig Defaults { get; }

    /// <inheritdoc/>
    public sealed override RetrievalModel Create(ModelConfig config, Rng rng) =>
        Create(config as TConfig ?? throw new ArgumentException($"model '{Name}' needs a {typeof(TConfig).Name}, got a {config.GetType().Name}."), rng);

    /// <summary>A freshly initialised model.</summary>
    public abstract TModel Create(TConfig config, Rng rng);
}
