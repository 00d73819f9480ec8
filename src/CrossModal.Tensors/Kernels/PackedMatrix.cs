namespace CrossModal.Tensors.Kernels;

/// <summary>
/// A GEMM right-hand operand op(B) [k x n] packed once into the micro-kernel's panel layout, for products that
/// reuse it many times (a GRU multiplies by the same W_hh at every time step; packing it per step costs ~10% of
/// the step). Layout: for each of the depth blocks GEMM uses for this k, a [kc x paddedN] block of Nr-column
/// panels, each kc steps of Nr floats; columns past n are zero. The packing depends on the kernel family of the
/// process, so a packed matrix is only valid in the process that made it.
/// Lifetime: the storage is rented from <see cref="TensorPool"/> (any thread may create and dispose one); Dispose
/// returns it. The data starts 64-byte aligned within the array; a large array never moves, and if a small one
/// is moved by the GC only the alignment is lost, not correctness.
/// </summary>
internal sealed class PackedMatrix : IDisposable
{
    private float[]? _storage;

    internal PackedMatrix(int k, int n, int nr)
    {
        K = k;
        N = n;
        PaddedN = (n + nr - 1) / nr * nr;
        long floats = (long)k * PaddedN + 16;
        if (floats > Array.MaxLength) throw new ArgumentException($"A packed [{k} x {n}] matrix is too large.");
        _storage = TensorPool.Rent((int)floats);
    }

    /// <summary>Depth (rows of op(B)).</summary>
    public int K { get; }

    /// <summary>Columns of op(B).</summary>
    public int N { get; }

    /// <summary>Columns rounded up to whole panels (the row stride of each depth block).</summary>
    internal int PaddedN { get; }

    /// <summary>Index of the first packed float in <see cref="Storage"/>; set when the matrix is packed.</summary>
    internal int Offset { get; set; }

    /// <summary>The array holding the panels.</summary>
    internal float[] Storage => _storage ?? throw new ObjectDisposedException(nameof(PackedMatrix));

    /// <summary>Returns the storage to the pool.</summary>
    public void Dispose()
    {
        var s = _storage;
        _storage = null;
        if (s is not null) TensorPool.Return(s);
    }
}
