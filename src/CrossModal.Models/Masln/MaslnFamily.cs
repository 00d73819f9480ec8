using CrossModal.Models.Acmr;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Models.Masln;

/// <summary>
/// MASLN (Xu, Song, Lu, Yang, Shen, Huang; ICMR 2018) for category-level and extendable (unseen-class) retrieval on
/// labelled image/text feature pairs, with class embeddings as side information. No public code exists; the
/// architecture follows the paper's description and the defaults are ours (README.md).
/// </summary>
public sealed class MaslnFamily : ModelFamily<MaslnConfig, MaslnModel>
{
    /// <summary>The family's name.</summary>
    public const string FamilyName = "masln";

    /// <inheritdoc/>
    public override string Name => FamilyName;

    /// <inheritdoc/>
    public override string Description => "MASLN (Xu et al., ICMR 2018): modal-adversarial semantic learning + cross-modal reconstruction with class embeddings; category-level and unseen classes, mAP";

    /// <inheritdoc/>
    public override RetrievalTask Task => RetrievalTask.Category;

    /// <inheritdoc/>
    public override ImageFeatures ImageFeatures => ImageFeatures.VectorOrRegions;

    /// <inheritdoc/>
    public override ValidationMeasure ValidationMeasure => ValidationMeasure.MeanAveragePrecision;

    /// <inheritdoc/>
    protected override MaslnConfig Defaults => new();

    /// <inheritdoc/>
    public override TrainingRecipe DefaultRecipe => AdversarialObjective.DefaultRecipe;

    /// <inheritdoc/>
    public override MaslnModel Create(MaslnConfig config, Rng rng) => new(config, rng);

    /// <inheritdoc/>
    public override TrainingObjective CreateObjective(RetrievalModel model, TrainingRecipe recipe) => new MaslnObjective((MaslnModel)model, recipe);
}
