namespace CrossModal.Tensors;

/// <summary>A scratch buffer from <see cref="TensorPool"/> for the duration of a using block.</summary>
internal readonly struct PooledBuffer : IDisposable
{
    private readonly float[] _array;
    private readonly int _length;

    public PooledBuffer(int length)
    {
        _array = TensorPool.Rent(length);
        _length = length;
    }

    public Span<float> Span => _array.AsSpan(0, _length);

    public float[] Array => _array;

    public void Dispose() => TensorPool.Return(_array);
}
