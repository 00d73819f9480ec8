using CrossModal.Models.Encoders;
using CrossModal.Tensors;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Models.Vse;

/// <summary>
/// VSE++ (Faghri et al., BMVC 2018) on precomputed features: image = L2-normalised linear projection (regions
/// averaged first), caption = L2-normalised last GRU state, score = dot product (cosine). Children "img_enc" and
/// "txt_enc" hold the original state dicts (img: fc.*, txt: embed.*, rnn.*).
/// </summary>
public sealed class VseModel : MatchingModel
{
    /// <summary>Creates the model with the original initialisation, drawing from <paramref name="rng"/>.</summary>
    public VseModel(VseConfig config, Rng rng) : base(config)
    {
        ImageEncoder = RegisterModule("img_enc", new ImageEncoderPrecomp(config.ImgDim, config.EmbedSize, rng, config.NoImgNorm, eps: 0f, poolRegions: true));
        TextEncoder = RegisterModule("txt_enc", new TextEncoderGru(config.VocabSize, config.WordDim, config.EmbedSize, config.NumLayers,
            config.BiGru, perWord: false, noTxtNorm: false, eps: 0f, rng));
    }

    /// <summary>The image encoder.</summary>
    public ImageEncoderPrecomp ImageEncoder { get; }

    /// <summary>The text encoder.</summary>
    public TextEncoderGru TextEncoder { get; }

    /// <inheritdoc/>
    public override Tensor EncodeImages(Tensor features) => ImageEncoder.Forward(features);

    /// <inheritdoc/>
    public override Tensor EncodeCaptions(int[] tokens, int[] lengths, int maxLength) => TextEncoder.Forward(tokens, lengths, maxLength);

    /// <inheritdoc/>
    public override Tensor Scores(Tensor images, Tensor captions, int[] captionLengths) => Ops.MatMul(images, captions, transB: true);

    /// <summary>One GEMM for the whole split: the evaluator need not shard a dot-product model.</summary>
    public override int EvaluationShardSize => int.MaxValue;

    /// <inheritdoc/>
    public override void ScoreBlock(EmbeddingSet images, int i0, int i1, EmbeddingSet captions, int j0, int j1, Span<float> output, int ldo)
    {
        int d = images.Dim, m = i1 - i0, n = j1 - j0;
        // Items are single rows packed back to back, so a block of items is a contiguous m x d (n x d) matrix.
        Gemm.Multiply(false, true, m, n, d, 1f, images.Items(i0, m), d, captions.Items(j0, n), d, 0f, output, ldo);
    }
}
