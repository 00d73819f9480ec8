using CrossModal.Data;
using CrossModal.Models;

namespace CrossModal.Evaluation;

/// <summary>
/// A split encoded by one model: every image once (the originals encode each image five times, once per caption,
/// and keep every fifth row; the result is the same) and every caption, in file order.
/// </summary>
public sealed record EncodedSplit(EmbeddingSet Images, EmbeddingSet Captions)
{
    /// <summary>Encodes <paramref name="data"/> with the model behind <paramref name="model"/> (evaluation mode, no gradients).</summary>
    public static EncodedSplit Encode(ModelHandle model, PrecompDataset data, CancellationToken cancellationToken = default) =>
        new(model.EncodeImages(data, cancellationToken: cancellationToken), model.EncodeCaptions(data, cancellationToken: cancellationToken));
}
