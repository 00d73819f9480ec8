using CrossModal.Tensors;

namespace CrossModal.Vision.Cnn;

/// <summary>
/// A value flowing through the runtime: float32 data (or int64 for shape tensors) with a shape. Buffers of
/// intermediate values come from <see cref="TensorPool"/> and go back when the last consumer has run
/// (<see cref="Release"/>); graph inputs and initializers wrap caller-owned arrays and are never returned.
/// </summary>
internal sealed class CnnValue
{
    private float[]? _buffer;
    private readonly int _offset;
    private readonly bool _pooled;

    private CnnValue(float[]? buffer, int offset, int[] shape, long[]? ints, bool pooled)
    {
        _buffer = buffer;
        _offset = offset;
        Shape = shape;
        Ints = ints;
        _pooled = pooled;
        Length = ShapeSize(shape);
    }

    /// <summary>The dimensions.</summary>
    public int[] Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>Rank.</summary>
    public int Rank => Shape.Length;

    /// <summary>Int64 contents for shape-like tensors (Reshape's shape); null for float values.</summary>
    public long[]? Ints { get; }

    /// <summary>True for int64 values.</summary>
    public bool IsInt64 => Ints is not null;

    /// <summary>The float elements, row-major.</summary>
    public Span<float> Span => (_buffer ?? throw new InvalidOperationException(IsInt64 ? "Value holds int64 data." : "Value was released."))
        .AsSpan(_offset, Length);

    /// <summary>The backing array (elements start at <see cref="Offset"/>).</summary>
    public float[] Buffer => _buffer ?? throw new InvalidOperationException("Value was released or holds int64 data.");

    /// <summary>Index of the first element in <see cref="Buffer"/>.</summary>
    public int Offset => _offset;

    /// <summary>A new float value with pooled, uninitialised storage.</summary>
    public static CnnValue Rent(int[] shape) => new(TensorPool.Rent(Math.Max(1, ShapeSize(shape))), 0, shape, null, pooled: true);

    /// <summary>Wraps caller-owned floats (not returned to the pool).</summary>
    public static CnnValue Wrap(float[] buffer, int offset, int[] shape) => new(buffer, offset, shape, null, pooled: false);

    /// <summary>An int64 value.</summary>
    public static CnnValue FromInts(long[] values, int[] shape) => new(null, 0, shape, values, pooled: false);

    /// <summary>Gives pooled storage back; the value must not be used afterwards.</summary>
    public void Release()
    {
        if (!_pooled || _buffer is null) return; // constants and caller-owned inputs stay valid
        TensorPool.Return(_buffer);
        _buffer = null;
    }

    /// <summary>Product of the dimensions.</summary>
    public static int ShapeSize(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        if (n > int.MaxValue) throw new ArgumentException($"Shape {Tensor.FormatShape(shape)} has more than 2^31 elements.");
        return (int)n;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{(IsInt64 ? "int64" : "float")}{Tensor.FormatShape(Shape)}";
}
