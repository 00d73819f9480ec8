using CrossModal.Tensors;

namespace CrossModal.Data;

/// <summary>
/// A training batch of category-labelled image/text feature pairs: row i of every member is one pair.
/// </summary>
/// <param name="Rows">The pairs' row indices in their dataset, in batch order.</param>
/// <param name="Images">Image features [B, Di].</param>
/// <param name="Texts">Text features [B, Dt].</param>
/// <param name="Labels">Each pair's class as the model counts classes (0..classes-1: the training classes in
/// ascending dataset order, so under the extendable protocol the seen classes only).</param>
/// <param name="ClassEmbeddings">The class embedding of each pair's class [B, E] (side information such as word
/// vectors of the class name), or null when the run uses none.</param>
public sealed record LabelledBatch(int[] Rows, Tensor Images, Tensor Texts, int[] Labels, Tensor? ClassEmbeddings) : IBatch
{
    /// <summary>Number of pairs.</summary>
    public int Size => Rows.Length;
}
