using CrossModal.Tensors;

namespace CrossModal.Tests;

/// <summary>
/// Scopes whose pooled buffers are dirty. Fresh arrays (outside any scope) are zero, which hides a kernel that
/// reads storage it never wrote (an <c>Empty</c> used as <c>Zeros</c>, an intermediate gradient buffer accumulated
/// into before it was cleared). Inside <see cref="Scope"/> such a read meets NaN instead: every buffer returned to
/// the pool is NaN-filled (<see cref="TensorPool.PoisonOnReturn"/>), and the pool is first stocked with NaN-filled
/// buffers of every size class up to 16K floats.
/// </summary>
internal static class DirtyPool
{
    /// <summary>Opens a <see cref="TensorScope"/> over a NaN-stocked pool (dispose it to end the scope).</summary>
    public static TensorScope Scope()
    {
        TensorPool.PoisonOnReturn = true;
        var held = new List<float[]>();
        for (int length = 1; length <= 1 << 14; length = Math.Max(length + 1, length * 9 / 8))
            for (int copies = 0; copies < 4; copies++) held.Add(TensorPool.Rent(length));
        foreach (var b in held) TensorPool.Return(b);
        return TensorScope.Begin();
    }
}
