using CrossModal.Models.Attention;
using CrossModal.Models.Encoders;
using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Imram;

/// <summary>
/// IMRAM, Iterative Matching with Recurrent Attention Memory (Chen et al., CVPR 2020; HuiChen24/IMRAM model.py):
/// SCAN's region encoder ("img_enc.fc_local.*", per-region L2 norm with eps 1e-8) and Bi-GRU word encoder
/// ("txt_enc.embed.*", "txt_enc.rnn.*", directions averaged, per-word L2 norm), and the K-step matching of
/// <see cref="ImramAttention"/> with the memory layers "linear_t2i", "gate_t2i", "linear_i2t", "gate_i2t" (all four
/// exist whatever the mode, as in the original's state dict; a mode trains only its direction's pair, and K = 1 none).
/// </summary>
public sealed class ImramModel : MatchingModel
{
    /// <summary>Creates the model with the original initialisation (Xavier-uniform fc_local, PyTorch defaults elsewhere).</summary>
    public ImramModel(ImramConfig config, Rng rng) : base(config)
    {
        Options = ImramOptions.From(config);
        int d = config.EmbedSize;
        ImageEncoder = RegisterModule("img_enc", new ImageEncoderPrecomp(config.ImgDim, d, rng, config.NoImgNorm,
            AttentionStages.Eps, poolRegions: false, linearName: "fc_local"));
        TextEncoder = RegisterModule("txt_enc", new TextEncoderGru(config.VocabSize, config.WordDim, d, config.NumLayers,
            config.BiGru, perWord: true, config.NoTxtNorm, AttentionStages.Eps, rng));
        Gates = new ImramGates(
            RegisterModule("linear_t2i", new Linear(2 * d, d, rng)),
            RegisterModule("gate_t2i", new Linear(2 * d, d, rng)),
            RegisterModule("linear_i2t", new Linear(2 * d, d, rng)),
            RegisterModule("gate_i2t", new Linear(2 * d, d, rng)));
    }

    /// <summary>The matching settings.</summary>
    public ImramOptions Options { get; }

    /// <summary>The region encoder.</summary>
    public ImageEncoderPrecomp ImageEncoder { get; }

    /// <summary>The word encoder.</summary>
    public TextEncoderGru TextEncoder { get; }

    /// <summary>The four memory layers.</summary>
    public ImramGates Gates { get; }

    /// <inheritdoc/>
    public override Tensor EncodeImages(Tensor features)
    {
        if (features.Rank != 3) throw new ArgumentException($"IMRAM needs region features [B, R, D], got {Tensor.FormatShape(features.ShapeSpan)}.");
        return ImageEncoder.Forward(features);
    }

    /// <inheritdoc/>
    public override Tensor EncodeCaptions(int[] tokens, int[] lengths, int maxLength) => TextEncoder.Forward(tokens, lengths, maxLength);

    /// <inheritdoc/>
    public override Tensor Scores(Tensor images, Tensor captions, int[] captionLengths) =>
        ImramAttention.Scores(images, captions, captionLengths, Options, Gates);

    /// <inheritdoc/>
    public override void ScoreBlock(EmbeddingSet images, int i0, int i1, EmbeddingSet captions, int j0, int j1, Span<float> output, int ldo)
    {
        int n = j1 - j0;
        var lengths = new int[n];
        for (int j = 0; j < n; j++) lengths[j] = captions.Length(j0 + j);
        ImramAttention.ScoreBlock(images.Items(i0, i1 - i0), i1 - i0, images.Length(i0), captions.Items(j0, n), lengths, images.Dim,
            Options, Gates, output, ldo);
    }

    /// <summary>The words' (or regions') attention of one pair, from encoded regions and a caption (<see cref="ImramExplainer"/>).</summary>
    public override ScoreExplanation? ExplainEncoded(ReadOnlySpan<float> image, int rows, int[] tokens)
    {
        if (rows < 1 || image.Length != rows * EmbedSize) throw new ArgumentException($"{image.Length} floats are not {rows} encoded regions of {EmbedSize}.");
        using var scope = TensorScope.Begin();
        using var noGrad = CrossModal.Tensors.Autograd.Tape.NoGrad();
        var words = EncodeCaptions(tokens, [tokens.Length], tokens.Length);
        return ImramExplainer.Explain(image, rows, words.Data, tokens.Length, EmbedSize, Options, Gates);
    }
}
