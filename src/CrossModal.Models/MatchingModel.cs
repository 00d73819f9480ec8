using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Models;

/// <summary>
/// An instance-level image-text matching model (VSE++, SCAN, IMRAM, NAAF, VSRN): an image encoder for precomputed
/// features, a text encoder of token ids, and a score for every image-caption pair. Training scores a batch against
/// itself (B x B, rows images, columns captions); evaluation encodes a split once and scores it in shards.
/// </summary>
public abstract class MatchingModel : RetrievalModel
{
    /// <summary>Creates the model for <paramref name="config"/>.</summary>
    protected MatchingModel(MatchingConfig config) : base(config) => EmbedSize = config.EmbedSize;

    /// <summary>Width of the encoded vectors (rows of an <see cref="EmbeddingSet"/>).</summary>
    public int EmbedSize { get; }

    /// <summary>Encodes features [B, R, D] or [B, D] to [B, E] (one vector per image) or [B, R, E] (regions).</summary>
    public abstract Tensor EncodeImages(Tensor features);

    /// <summary>
    /// <see cref="EncodeImages"/> for a model whose weights will not change any more (a <see cref="ModelHandle"/>'s,
    /// in evaluation mode, without gradients): by default EncodeImages itself; a family may precompute from its
    /// weights here (VSRN folds each GCN block's four 1x1 convolutions into two products). The result must not
    /// change the model: several threads may call it at once.
    /// </summary>
    public virtual Func<Tensor, Tensor> FrozenImageEncoder() => EncodeImages;

    /// <summary>Encodes padded token ids [B * maxLength] with true lengths to [B, E] (one vector) or [B, maxLength, E] (words).</summary>
    public abstract Tensor EncodeCaptions(int[] tokens, int[] lengths, int maxLength);

    /// <summary>Differentiable scores [Bi, Bc] between encoded images and encoded captions.</summary>
    public abstract Tensor Scores(Tensor images, Tensor captions, int[] captionLengths);

    /// <summary>
    /// Scores images [i0, i1) against captions [j0, j1) of encoded sets into output (row stride ldo), without
    /// recording gradients: the evaluation path (a GEMM for VSE models, the fused attention for SCAN). Must not
    /// change the model: several threads may call it at once.
    /// </summary>
    public abstract void ScoreBlock(EmbeddingSet images, int i0, int i1, EmbeddingSet captions, int j0, int j1, Span<float> output, int ldo);

    /// <summary>
    /// Explains the score of one image (raw features [1, R, D] or [1, D]) and one caption (token ids with
    /// &lt;start&gt; and &lt;end&gt;), without gradients; null when the family offers no explanation. Like
    /// <see cref="ScoreBlock"/> it must not change the model. By default: the image encoded, then
    /// <see cref="ExplainEncoded"/> (a family whose explanation needs more than the encoding overrides this).
    /// </summary>
    public virtual ScoreExplanation? Explain(Tensor features, int[] tokens)
    {
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        var encoded = EncodeImages(features);
        if (encoded.Dim(0) != 1) throw new ArgumentException($"Explain takes one image, got {encoded.Dim(0)}.");
        return ExplainEncoded(encoded.Data, encoded.Rank == 3 ? encoded.Dim(1) : 1, tokens);
    }

    /// <summary>
    /// Explains the score of one image given as its encoding (<paramref name="rows"/> x EmbedSize floats, what
    /// <see cref="EncodeImages"/> made of it: the form a gallery index stores) and one caption's token ids; null
    /// when the family cannot explain from the encoding alone. Must not change the model.
    /// </summary>
    public virtual ScoreExplanation? ExplainEncoded(ReadOnlySpan<float> image, int rows, int[] tokens) => null;

    /// <summary>The images x captions block size the evaluator should use (SCAN's shard size is 128).</summary>
    public virtual int EvaluationShardSize => 128;
}
