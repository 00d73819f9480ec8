using System.Text.Json.Serialization;
using CrossModal.Models.Acmr;

namespace CrossModal.Models.Masln;

/// <summary>
/// MASLN's settings (Xu et al., ICMR 2018; no public code: the design and defaults are ours, see README.md): the
/// ACMR-style core plus cross-modal reconstruction guided by class embeddings, weighted by lambda_rec, and one
/// switch per part for the ablation (no_reconstruction, no_class_embeddings, no_discriminator).
/// </summary>
public sealed record MaslnConfig : AcmrConfig
{
    /// <inheritdoc/>
    public override string Model => MaslnFamily.FamilyName;

    /// <summary>Width of the class embeddings (one row per class); taken from the class-embedding file or classvec.</summary>
    public int ClassDim { get; init; } = 100;

    /// <summary>Weight of L_rec, the squared errors of the four cross-modal reconstructions.</summary>
    [Flag("weight of the cross-modal reconstruction loss L_rec")]
    public float LambdaRec { get; init; } = 1f;

    /// <summary>Ablation: no decoders, no L_rec (the model becomes the ACMR-style one).</summary>
    [Flag("ablation: without the cross-modal reconstruction")]
    public bool NoReconstruction { get; init; }

    /// <summary>Ablation: the decoders see the code alone, without the class embedding.</summary>
    [Flag("ablation: reconstruct from the code alone, without class embeddings")]
    public bool NoClassEmbeddings { get; init; }

    /// <summary>Ablation: no modality discriminator, no L_adv (one optimizer).</summary>
    [Flag("ablation: without the modality discriminator")]
    public bool NoDiscriminator { get; init; }

    /// <inheritdoc/>
    [JsonIgnore]
    public override bool UsesDiscriminator => !NoDiscriminator;

    /// <summary>Whether the model reconstructs features (has decoders).</summary>
    [JsonIgnore]
    public bool UsesReconstruction => !NoReconstruction;

    /// <inheritdoc/>
    [JsonIgnore]
    public override bool UsesClassEmbeddings => UsesReconstruction && !NoClassEmbeddings;

    /// <inheritdoc/>
    public override ModelConfig ForData(DataShape shape) =>
        (MaslnConfig)base.ForData(shape) with { ClassDim = UsesClassEmbeddings ? shape.ClassEmbeddingDim : ClassDim };

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        Need(LambdaRec >= 0, $"lambda_rec must not be negative, got {LambdaRec}.");
        Need(!UsesClassEmbeddings || ClassDim > 0, $"class_dim must be positive when the decoders use class embeddings, got {ClassDim}.");
    }
}
