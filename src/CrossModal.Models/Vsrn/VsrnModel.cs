using CrossModal.Models.Encoders;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// VSRN, Visual Semantic Reasoning (Li et al., ICCV 2019; KunpengLi1994/VSRN) on precomputed region features: the
/// image vector comes from region graph reasoning (<see cref="RsGcn"/> x 4) and a GRU over the regions
/// (<see cref="VsrnImageEncoder"/>), the caption vector from a GRU's last state (VSE++'s text encoder, L2 norm
/// without epsilon), the score is their dot product. Training adds the caption NLL of the caption branch
/// (<see cref="CaptionModel"/>), which reads the GCN regions. Children: img_enc, txt_enc (the original's two state
/// dicts) and caption_model (encoder.*, decoder.*; absent in models imported from original checkpoints, which do
/// not save it).
/// </summary>
public sealed class VsrnModel : MatchingModel, ICaptioningModel
{
    private readonly VsrnImageEncoder _image;
    private readonly TextEncoderGru _text;
    private readonly CaptionModel? _caption;

    /// <summary>Creates the model with the original initialisation, drawing from <paramref name="rng"/>.</summary>
    public VsrnModel(VsrnConfig config, Rng rng) : base(config)
    {
        VsrnConfig = config;
        _image = RegisterModule("img_enc", new VsrnImageEncoder(config, rng));
        _text = RegisterModule("txt_enc", new TextEncoderGru(config.VocabSize, config.WordDim, config.EmbedSize, config.NumLayers,
            bidirectional: false, perWord: false, noTxtNorm: false, eps: 0f, rng));
        if (config.Captioning) _caption = RegisterModule("caption_model", new CaptionModel(config, rng, Noise));
    }

    /// <summary>The configuration.</summary>
    public VsrnConfig VsrnConfig { get; }

    /// <summary>The captioning branch, if the model has one.</summary>
    internal CaptionModel? CaptionBranch => _caption;

    /// <summary>The image encoder.</summary>
    internal VsrnImageEncoder ImageEncoder => _image;

    /// <summary>The parameters of the captioning branch (empty without one), in state-dict order.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> CaptioningParameters() =>
        _caption is null ? [] : _caption.NamedParameters("caption_model.");

    /// <inheritdoc/>
    public override Tensor EncodeImages(Tensor features) => _image.Forward(features).Embedding;

    /// <inheritdoc/>
    public override Func<Tensor, Tensor> FrozenImageEncoder() => _image.Frozen();

    /// <summary>The image embedding [B, E] and the l2-normalised GCN regions [B, N, E] the caption branch reads.</summary>
    public (Tensor Embedding, Tensor Regions) EncodeImagesWithRegions(Tensor features) => _image.Forward(features);

    /// <inheritdoc/>
    public override Tensor EncodeCaptions(int[] tokens, int[] lengths, int maxLength) => _text.Forward(tokens, lengths, maxLength);

    /// <summary>
    /// The caption NLL of a batch (see <see cref="CaptionModel.Loss"/>); the model must have the captioning branch. In
    /// data-parallel training (<paramref name="shard"/>: this rank's share of the global batch) this rank's part of
    /// the global batch's NLL; the parts sum to it.
    /// </summary>
    public Tensor CaptionLoss(Tensor regions, int[] tokens, int[] lengths, int maxLength, Data.BatchShard? shard = null) =>
        (_caption ?? throw new InvalidOperationException("This VSRN model has no captioning branch.")).Loss(regions, tokens, lengths, maxLength, shard);

    /// <inheritdoc/>
    public override Tensor Scores(Tensor images, Tensor captions, int[] captionLengths) => Ops.MatMul(images, captions, transB: true);

    /// <summary>One GEMM for the whole split (global embeddings).</summary>
    public override int EvaluationShardSize => int.MaxValue;

    /// <inheritdoc/>
    public override void ScoreBlock(EmbeddingSet images, int i0, int i1, EmbeddingSet captions, int j0, int j1, Span<float> output, int ldo)
    {
        int d = images.Dim, m = i1 - i0, n = j1 - j0;
        Gemm.Multiply(false, true, m, n, d, 1f, images.Items(i0, m), d, captions.Items(j0, n), d, 0f, output, ldo);
    }

    /// <inheritdoc/>
    public bool CanCaption => _caption is not null;

    /// <inheritdoc/>
    public IReadOnlyList<int[]> Caption(Tensor features)
    {
        if (_caption is null) throw new InvalidOperationException("This VSRN model has no captioning branch (original checkpoints do not save it); train one with crossmodal train.");
        using var noGrad = Tape.NoGrad();
        using var scope = TensorScope.Begin();
        var (_, regions) = _image.Forward(features);
        var words = _caption.Generate(regions);
        var result = new int[words.Length][];
        for (int i = 0; i < words.Length; i++)
        {
            int len = 0;
            while (len < words[i].Length && words[i][len] is not (0 or 2)) len++;
            result[i] = words[i][..len];
        }
        return result;
    }
}
