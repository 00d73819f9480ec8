using CrossModal.Models.Encoders;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
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

    /// <summary>
    /// Per-region contributions: the image vector is the normalised mean of the projected regions p_r, so the score
    /// v·q = Σ_r (p_r·q) / (R ‖mean p‖) splits exactly into one term per region (signed; they sum to the score).
    /// With one feature vector per image there is one "region" holding the whole score.
    /// </summary>
    public override ScoreExplanation? Explain(Tensor features, int[] tokens)
    {
        if (features.Dim(0) != 1) throw new ArgumentException($"Explain takes one image, got {features.Dim(0)}.");
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        var projected = ImageEncoder.Project(features); // [1, R, E] or [1, E]
        int regions = projected.Rank == 3 ? projected.Dim(1) : 1, e = EmbedSize;
        var caption = EncodeCaptions(tokens, [tokens.Length], tokens.Length).Data; // [1, E], unit
        var p = projected.Data;
        var mean = new double[e];
        for (int r = 0; r < regions; r++)
            for (int k = 0; k < e; k++) mean[k] += p[r * e + k] / (double)regions;
        double norm = ImageEncoder.NoImgNorm ? 1 : Math.Sqrt(mean.Sum(x => x * x));
        var contributions = new float[regions];
        double score = 0;
        for (int r = 0; r < regions; r++)
        {
            double dot = 0;
            for (int k = 0; k < e; k++) dot += (double)p[r * e + k] * caption[k];
            contributions[r] = (float)(dot / (regions * norm));
            score += contributions[r];
        }
        string meaning = regions > 1
            ? "VSE++ averages the projected regions before normalising, so the score (a cosine) is exactly the sum of one term per region: " +
              "(projected region · caption vector) / (regions x norm of the mean). Positive terms pull the image towards the caption, negative ones away. " +
              "There is no per-word attention: the caption is one GRU vector, so every word shares the same map."
            : "VSE++ on one feature vector per image: the whole score is one term; there are no regions to attribute it to.";
        return new ScoreExplanation(ExplanationKind.RegionContributions, (float)score, tokens.Length, regions, contributions, null, meaning);
    }

    /// <summary>
    /// From the encoding alone (a gallery index keeps each image as the one vector v that pooling and normalising
    /// made), the score v·q is one term: the per-region shares of <see cref="Explain"/> need the projected regions
    /// before pooling, which the encoding no longer holds. Returned as one "region" (the whole image) holding the
    /// whole score, with a meaning that says so.
    /// </summary>
    public override ScoreExplanation? ExplainEncoded(ReadOnlySpan<float> image, int rows, int[] tokens)
    {
        if (rows != 1 || image.Length != EmbedSize) throw new ArgumentException($"A VSE++ image encoding is one row of {EmbedSize} floats, got {image.Length} floats in {rows} rows.");
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        var caption = EncodeCaptions(tokens, [tokens.Length], tokens.Length).Data;
        double score = 0;
        for (int k = 0; k < EmbedSize; k++) score += (double)image[k] * caption[k];
        const string meaning = "VSE++ scores the cosine of one image vector and one caption vector. The gallery index keeps each image as that one vector " +
            "(its projected regions averaged, then normalised), so the score cannot be split over regions here: the per-region shares need the projected " +
            "regions before pooling, which the index does not store. The whole image holds the whole score (one cell); there is no per-word attention either.";
        return new ScoreExplanation(ExplanationKind.RegionContributions, (float)score, tokens.Length, 1, [(float)score], null, meaning);
    }
}
