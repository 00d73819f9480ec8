using CrossModal.Models.Acmr;
using CrossModal.Tensors;

namespace CrossModal.Models.Masln;

/// <summary>
/// MASLN (Xu et al., ICMR 2018, "Modal-adversarial Semantic Learning Network for Extendable Cross-modal Retrieval"):
/// the ACMR-style encoders, shared classifier and modality discriminator, plus two decoders ("img_dec", "txt_dec")
/// that reconstruct both modalities' standardised features from either modality's code concatenated with the class
/// embedding of the item's class. Retrieval uses the codes alone (cosine); the decoders and class embeddings shape
/// the codes during training only.
/// </summary>
public sealed class MaslnModel : AcmrModel
{
    /// <summary>Creates the model (the ACMR-style parts first, then the decoders) from <paramref name="rng"/>.</summary>
    public MaslnModel(MaslnConfig config, Rng rng) : base(config, rng)
    {
        if (!config.UsesReconstruction) return;
        int inputs = config.EmbedSize + (config.UsesClassEmbeddings ? config.ClassDim : 0);
        ImageDecoder = RegisterModule("img_dec", new FeatureDecoder(inputs, config.HiddenSize, config.ImgDim, rng));
        TextDecoder = RegisterModule("txt_dec", new FeatureDecoder(inputs, config.HiddenSize, config.TxtDim, rng));
    }

    /// <summary>The image decoder, or null without reconstruction.</summary>
    public FeatureDecoder? ImageDecoder { get; }

    /// <summary>The text decoder, or null without reconstruction.</summary>
    public FeatureDecoder? TextDecoder { get; }

    /// <summary>
    /// Both modalities' reconstructions [B, Di] and [B, Dt] from codes [B, E] and, unless the class embeddings are
    /// ablated, the class embeddings of the items' classes [B, class_dim].
    /// </summary>
    public (Tensor Images, Tensor Texts) Reconstruct(Tensor codes, Tensor? classEmbeddings)
    {
        if (ImageDecoder is null || TextDecoder is null) throw new InvalidOperationException("This MASLN model has no decoders (no_reconstruction).");
        var config = (MaslnConfig)Config;
        Tensor input = codes;
        if (config.UsesClassEmbeddings)
        {
            if (classEmbeddings is null) throw new ArgumentException("MASLN's decoders need the class embedding of each item's class; the batch has none.");
            if (classEmbeddings.Rank != 2 || classEmbeddings.Dim(0) != codes.Dim(0) || classEmbeddings.Dim(1) != config.ClassDim)
                throw new ArgumentException($"Class embeddings {Tensor.FormatShape(classEmbeddings.ShapeSpan)} for {codes.Dim(0)} codes; the model expects width {config.ClassDim}.");
            input = Ops.Concat([codes, classEmbeddings], 1);
        }
        return (ImageDecoder.Forward(input), TextDecoder.Forward(input));
    }
}
