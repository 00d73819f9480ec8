using System.Text.Json.Serialization;

namespace CrossModal.Models.Acmr;

/// <summary>
/// The ACMR-style model's settings (Wang et al., ACM MM 2017, adversarial cross-modal retrieval, reduced to its
/// adversarial core): encoders, a shared label classifier and a modality discriminator; no reconstruction, no class
/// embeddings. The loss weights weigh the generator's terms: lambda_corr x L_corr + lambda_dis x L_dis +
/// lambda_adv x L_adv. Defaults and why: src/CrossModal.Models/Masln/README.md.
/// </summary>
public record AcmrConfig : CategoryConfig
{
    /// <inheritdoc/>
    public override string Model => AcmrFamily.FamilyName;

    /// <summary>Weight of L_corr, the squared distance between a pair's image and text codes.</summary>
    [Flag("weight of the paired-code squared distance L_corr")]
    public float LambdaCorr { get; init; } = 1f;

    /// <summary>Weight of L_dis, the shared classifier's cross-entropy on both modalities' codes.</summary>
    [Flag("weight of the label classifier's cross-entropy L_dis")]
    public float LambdaDis { get; init; } = 1f;

    /// <summary>Weight of L_adv, the encoders' loss of fooling the modality discriminator.</summary>
    [Flag("weight of the encoders' adversarial loss L_adv (fooling the modality discriminator)")]
    public float LambdaAdv { get; init; } = 0.1f;

    /// <summary>Adam learning rate of the modality discriminator (the recipe's learning_rate drives the encoders).</summary>
    [JsonPropertyName("dis_learning_rate")]
    [Flag("Adam learning rate of the modality discriminator")]
    public float DisLearningRate { get; init; } = 1e-3f;

    /// <summary>Dropout between the hidden layer and the code layer of each encoder.</summary>
    [Flag("dropout in the encoders (between the hidden and the code layer)")]
    public float Dropout { get; init; }

    /// <summary>Whether the model has a modality discriminator (MASLN's ablation turns it off).</summary>
    [JsonIgnore]
    public virtual bool UsesDiscriminator => true;

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        Need(LambdaCorr >= 0 && LambdaDis >= 0 && LambdaAdv >= 0, $"the loss weights must not be negative (lambda_corr {LambdaCorr}, lambda_dis {LambdaDis}, lambda_adv {LambdaAdv}).");
        Need(DisLearningRate > 0, $"dis_learning_rate must be positive, got {DisLearningRate}.");
        Need(Dropout is >= 0f and < 1f, $"dropout must be in [0, 1), got {Dropout}.");
    }
}
