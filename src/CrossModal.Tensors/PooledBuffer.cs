namespace CrossModal.Tensors;

/// <summary>A scratch buffer from <see cref="TensorPool"/> for the duration of a using block.</summary>
public readonly struct PooledBuffer : IDisposable
{
    private readonly float[] _array;
    private readonly int _length;

    /// <summary>Rents at least <paramref name="length"/> floats (contents undefined).</summary>
    public PooledBuffer(int length)
    {
        _array = TensorPool.Rent(length);
        _length = length;
    }

    /// <summary>The first length floats.</summary>
    public Span<float> Span => _array.AsSpan(0, _length);

    /// <summary>The whole rented array (may be longer than requested).</summary>
    public float[] Array => _array;

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose() => TensorPool.Return(_array);
}
