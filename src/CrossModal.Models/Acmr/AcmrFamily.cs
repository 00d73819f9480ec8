using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Models.Acmr;

/// <summary>
/// The ACMR-style adversarial model (after Wang et al., ACM MM 2017) for category-level retrieval on labelled
/// image/text feature pairs: MASLN's ablation without reconstruction and class embeddings.
/// </summary>
public sealed class AcmrFamily : ModelFamily<AcmrConfig, AcmrModel>
{
    /// <summary>The family's name.</summary>
    public const string FamilyName = "acmr";

    /// <inheritdoc/>
    public override string Name => FamilyName;

    /// <inheritdoc/>
    public override string Description => "ACMR-style adversarial common space (after Wang et al., ACM MM 2017): encoders, label classifier, modality discriminator; category-level, mAP";

    /// <inheritdoc/>
    public override RetrievalTask Task => RetrievalTask.Category;

    /// <inheritdoc/>
    public override ImageFeatures ImageFeatures => ImageFeatures.VectorOrRegions;

    /// <inheritdoc/>
    public override ValidationMeasure ValidationMeasure => ValidationMeasure.MeanAveragePrecision;

    /// <inheritdoc/>
    protected override AcmrConfig Defaults => new();

    /// <inheritdoc/>
    public override TrainingRecipe DefaultRecipe => AdversarialObjective.DefaultRecipe;

    /// <inheritdoc/>
    public override AcmrModel Create(AcmrConfig config, Rng rng) => new(config, rng);

    /// <inheritdoc/>
    public override TrainingObjective CreateObjective(RetrievalModel model, TrainingRecipe recipe) => new AdversarialObjective((AcmrModel)model, recipe);
}
