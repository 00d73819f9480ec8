using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models;

/// <summary>
/// An image-text matching model: an image encoder for precomputed features, a text encoder, and a score for every
/// image-caption pair. Training scores a batch against itself (B x B, rows images, columns captions); evaluation
/// encodes a split once and scores it in shards.
/// </summary>
public abstract class MatchingModel : Module
{
    /// <summary>Creates the model for <paramref name="config"/>.</summary>
    protected MatchingModel(ModelConfig config)
    {
        config.Validate();
        Config = config;
    }

    /// <summary>The configuration the model was built from.</summary>
    public ModelConfig Config { get; }

    /// <summary>Width of the encoded vectors.</summary>
    public int EmbedSize => Config.EmbedSize;

    /// <summary>True when an image is encoded as one vector (scored by a dot product), false for region sets.</summary>
    public abstract bool GlobalImageEmbedding { get; }

    /// <summary>True when a caption is encoded as one vector, false for per-word vectors.</summary>
    public abstract bool GlobalCaptionEmbedding { get; }

    /// <summary>Encodes features [B, R, D] or [B, D] to [B, E] (global) or [B, R, E] (regions).</summary>
    public abstract Tensor EncodeImages(Tensor features);

    /// <summary>Encodes padded token ids [B * maxLength] with true lengths to [B, E] (global) or [B, maxLength, E].</summary>
    public abstract Tensor EncodeCaptions(int[] tokens, int[] lengths, int maxLength);

    /// <summary>Differentiable scores [Bi, Bc] between encoded images and encoded captions.</summary>
    public abstract Tensor Scores(Tensor images, Tensor captions, int[] captionLengths);

    /// <summary>
    /// Scores images [i0, i1) against captions [j0, j1) of encoded sets into output (row stride ldo), without
    /// recording gradients: the evaluation path (a GEMM for VSE models, the fused attention for SCAN).
    /// </summary>
    public abstract void ScoreBlock(EmbeddingSet images, int i0, int i1, EmbeddingSet captions, int j0, int j1, Span<float> output, int ldo);

    /// <summary>The images x captions block size the evaluator should use (SCAN's shard size is 128).</summary>
    public virtual int EvaluationShardSize => 128;
}
