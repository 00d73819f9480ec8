using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Acmr;

/// <summary>
/// The ACMR-style adversarial common-space model: an image and a text <see cref="FeatureEncoder"/> ("img_enc",
/// "txt_enc") into codes of one space, a label classifier shared by both modalities ("classifier", a linear layer
/// to the training classes' logits) and a <see cref="ModalityDiscriminator"/> ("discriminator"). Retrieval ranks by
/// cosine of the codes. MASLN extends it with cross-modal reconstruction (<see cref="Masln.MaslnModel"/>).
/// </summary>
public class AcmrModel : CategoryModel
{
    /// <summary>Creates the model, initialising from <paramref name="rng"/> (encoders, classifier, then discriminator).</summary>
    public AcmrModel(AcmrConfig config, Rng rng) : base(config)
    {
        ImageEncoder = RegisterModule("img_enc", new FeatureEncoder(config.ImgDim, config.HiddenSize, config.EmbedSize, config.Dropout, rng, Noise));
        TextEncoder = RegisterModule("txt_enc", new FeatureEncoder(config.TxtDim, config.HiddenSize, config.EmbedSize, config.Dropout, rng, Noise));
        Classifier = RegisterModule("classifier", new Linear(config.EmbedSize, config.NumClasses, rng));
        if (config.UsesDiscriminator) Discriminator = RegisterModule("discriminator", new ModalityDiscriminator(config.EmbedSize, rng));
    }

    /// <summary>The image encoder.</summary>
    public FeatureEncoder ImageEncoder { get; }

    /// <summary>The text encoder.</summary>
    public FeatureEncoder TextEncoder { get; }

    /// <summary>The label classifier shared by both modalities' codes.</summary>
    public Linear Classifier { get; }

    /// <summary>The modality discriminator, or null when the configuration has none.</summary>
    public ModalityDiscriminator? Discriminator { get; }

    /// <summary>Parameter-name prefix of the discriminator (its own optimizer updates exactly these).</summary>
    public const string DiscriminatorPrefix = "discriminator.";

    /// <inheritdoc/>
    protected override Tensor EncodeStandardizedImages(Tensor standardized) => ImageEncoder.Forward(standardized);

    /// <inheritdoc/>
    protected override Tensor EncodeStandardizedTexts(Tensor standardized) => TextEncoder.Forward(standardized);
}
