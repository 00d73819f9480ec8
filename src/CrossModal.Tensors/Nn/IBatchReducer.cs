namespace CrossModal.Tensors.Nn;

/// <summary>
/// Sums partial statistics over the parts of a batch that several workers hold (data-parallel training's ranks),
/// so that a layer normalising over the batch (<see cref="BatchNorm1d"/>) sees the whole batch's statistics. Every
/// worker calls <see cref="Sum"/> with its own partial sums, in the same order, and receives the same totals.
/// </summary>
public interface IBatchReducer
{
    /// <summary>Replaces each element of <paramref name="values"/> by its sum over the workers, in place; the result is bit-identical on every worker.</summary>
    void Sum(Span<double> values);
}
