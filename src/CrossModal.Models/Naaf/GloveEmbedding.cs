using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Naaf;

/// <summary>
/// NAAF's GloveEmb without its unused random part: a child "glove" (an Embedding), so the table's state-dict name is
/// <c>embed.glove.weight</c> as in the original. The original sets <c>requires_grad = False</c> on the module object,
/// not on the parameter, so Adam fine-tunes the table; so does this one.
/// </summary>
public sealed class GloveEmbedding : Module
{
    /// <summary>A V x dim table initialised N(0, 1) (PyTorch's Embedding default; a GloVe table replaces it).</summary>
    public GloveEmbedding(int vocabSize, int dim, Rng rng) => Glove = RegisterModule("glove", new Embedding(vocabSize, dim, rng));

    /// <summary>The table.</summary>
    public Embedding Glove { get; }
}
