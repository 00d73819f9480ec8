using CrossModal.Models.Encoders;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Models.Scan;

/// <summary>
/// SCAN, Stacked Cross Attention (Lee et al., ECCV 2018) on precomputed region features: regions projected and
/// L2-normalised (eps 1e-8), words from a (bi-)GRU with directions averaged and L2-normalised, and the
/// image-sentence score of <see cref="CrossAttention"/> (t2i or i2t). Children "img_enc" (fc.*) and "txt_enc"
/// (embed.*, rnn.*) hold the original state dicts.
/// </summary>
public sealed class ScanModel : MatchingModel
{
    /// <summary>Creates the model with the original initialisation.</summary>
    public ScanModel(ScanConfig config, Rng rng) : base(config)
    {
        Attention = CrossAttentionOptions.From(config);
        ImageEncoder = RegisterModule("img_enc", new ImageEncoderPrecomp(config.ImgDim, config.EmbedSize, rng, config.NoImgNorm,
            CrossAttentionOptions.Eps, poolRegions: false, weightNorm: config.PrecompEncType == ImageEncoderType.WeightNorm));
        TextEncoder = RegisterModule("txt_enc", new TextEncoderGru(config.VocabSize, config.WordDim, config.EmbedSize, config.NumLayers,
            config.BiGru, perWord: true, config.NoTxtNorm, CrossAttentionOptions.Eps, rng));
    }

    /// <summary>The attention settings.</summary>
    public CrossAttentionOptions Attention { get; }

    /// <summary>The region encoder.</summary>
    public ImageEncoderPrecomp ImageEncoder { get; }

    /// <summary>The word encoder.</summary>
    public TextEncoderGru TextEncoder { get; }

    /// <inheritdoc/>
    public override Tensor EncodeImages(Tensor features)
    {
        if (features.Rank != 3) throw new ArgumentException($"SCAN needs region features [B, R, D], got {Tensor.FormatShape(features.ShapeSpan)}.");
        return ImageEncoder.Forward(features);
    }

    /// <inheritdoc/>
    public override Tensor EncodeCaptions(int[] tokens, int[] lengths, int maxLength) => TextEncoder.Forward(tokens, lengths, maxLength);

    /// <inheritdoc/>
    public override Tensor Scores(Tensor images, Tensor captions, int[] captionLengths) =>
        CrossAttention.Scores(images, captions, captionLengths, Attention);

    /// <inheritdoc/>
    public override void ScoreBlock(EmbeddingSet images, int i0, int i1, EmbeddingSet captions, int j0, int j1, Span<float> output, int ldo)
    {
        int n = j1 - j0;
        var lengths = new int[n];
        for (int j = 0; j < n; j++) lengths[j] = captions.Length(j0 + j);
        int regions = images.Length(i0);
        CrossAttention.ScoreBlock(images.Items(i0, i1 - i0), i1 - i0, regions, captions.Items(j0, n), lengths, images.Dim, Attention, output, ldo);
    }

    /// <summary>Word-to-region attention of encoded regions (a gallery index's rows) and a caption (<see cref="ScanExplainer"/>).</summary>
    public override ScoreExplanation? ExplainEncoded(ReadOnlySpan<float> image, int rows, int[] tokens)
    {
        if (rows < 1 || image.Length != rows * EmbedSize) throw new ArgumentException($"{image.Length} floats are not {rows} encoded regions of {EmbedSize}.");
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        var words = EncodeCaptions(tokens, [tokens.Length], tokens.Length);
        return ScanExplainer.Explain(image, rows, words.Data, tokens.Length, EmbedSize, Attention);
    }
}
