namespace CrossModal.Data;

/// <summary>
/// A training batch of any task: <see cref="Batch"/> (captions with their images, precomp data) or a batch of
/// labelled feature pairs. A family's training objective knows which kind its task produces.
/// </summary>
public interface IBatch
{
    /// <summary>Number of rows (captions or pairs).</summary>
    int Size { get; }
}
