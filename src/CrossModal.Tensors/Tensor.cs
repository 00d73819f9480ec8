using System.Runtime.CompilerServices;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Tensors;

/// <summary>
/// A float32 tensor: contiguous row-major storage (a slice of <see cref="Buffer"/> from <see cref="Offset"/>) and a
/// shape. Reshapes and leading-axis slices are views on the same storage; anything else copies. Differentiable ops
/// live in <see cref="Ops"/>; a tensor with <see cref="RequiresGrad"/> set receives its gradient in <see cref="Grad"/>
/// after <see cref="Tape.Backward"/>.
/// </summary>
public sealed class Tensor
{
    private readonly int[] _shape;

    internal Tensor(float[] buffer, int offset, int[] shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension in shape {FormatShape(shape)}.");
            n *= d;
        }
        if (n > int.MaxValue) throw new ArgumentException($"Shape {FormatShape(shape)} has more than 2^31 elements.");
        if (offset < 0 || offset + n > buffer.Length)
            throw new ArgumentException($"Storage of {buffer.Length} floats cannot hold shape {FormatShape(shape)} at offset {offset}.");
        Buffer = buffer;
        Offset = offset;
        _shape = shape;
        Length = (int)n;
    }

    /// <summary>The storage array (possibly longer than the tensor, possibly shared with views).</summary>
    public float[] Buffer { get; }

    /// <summary>Index of the first element in <see cref="Buffer"/>.</summary>
    public int Offset { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The shape (a copy; use <see cref="Dim"/> on hot paths).</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>The shape without copying.</summary>
    public ReadOnlySpan<int> ShapeSpan => _shape;

    /// <summary>Number of axes.</summary>
    public int Rank => _shape.Length;

    /// <summary>The elements, row-major.</summary>
    public Span<float> Data => Buffer.AsSpan(Offset, Length);

    /// <summary>Whether gradients flow to this tensor.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>False for outputs of recorded ops; leaves (parameters, inputs) keep their gradient across steps.</summary>
    public bool IsLeaf { get; internal set; } = true;

    /// <summary>The gradient accumulated by backward passes, or null.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>Optional name (parameters carry their PyTorch state-dict name).</summary>
    public string? Name { get; set; }

    /// <summary>Size of axis <paramref name="axis"/> (negative counts from the end).</summary>
    public int Dim(int axis) => _shape[NormalizeAxis(axis)];

    /// <summary>Element at a flat row-major index.</summary>
    public float this[int index]
    {
        get => Data[index];
        set => Data[index] = value;
    }

    /// <summary>Element at a multi-dimensional index.</summary>
    public float this[params int[] index]
    {
        get => Buffer[Offset + FlatIndex(index)];
        set => Buffer[Offset + FlatIndex(index)] = value;
    }

    // ---- creation -------------------------------------------------------------------------------------------

    /// <summary>A zero-filled tensor (pooled inside a <see cref="TensorScope"/>).</summary>
    public static Tensor Zeros(params int[] shape) => new(TensorScope.Allocate(Count(shape), clear: true), 0, (int[])shape.Clone());

    /// <summary>A tensor whose contents are undefined (pooled inside a <see cref="TensorScope"/>); every element must be written.</summary>
    public static Tensor Empty(params int[] shape) => new(TensorScope.Allocate(Count(shape), clear: false), 0, (int[])shape.Clone());

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var t = Empty(shape);
        t.Data.Fill(value);
        return t;
    }

    /// <summary>A tensor of shape <paramref name="shape"/> that wraps <paramref name="data"/> without copying.</summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        if (Count(shape) != data.Length)
            throw new ArgumentException($"{data.Length} values do not fill shape {FormatShape(shape)} ({Count(shape)} elements).");
        return new Tensor(data, 0, (int[])shape.Clone());
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromSpan(ReadOnlySpan<float> data, params int[] shape)
    {
        var t = Empty(shape);
        if (data.Length != t.Length)
            throw new ArgumentException($"{data.Length} values do not fill shape {FormatShape(shape)} ({t.Length} elements).");
        data.CopyTo(t.Data);
        return t;
    }

    /// <summary>A rank-0 tensor.</summary>
    public static Tensor Scalar(float value)
    {
        var t = Empty();
        t.Data[0] = value;
        return t;
    }

    /// <summary>A parameter: a leaf outside any scope that requires a gradient.</summary>
    public static Tensor Parameter(float[] data, int[] shape, string? name = null)
    {
        var t = FromArray(data, shape);
        t.RequiresGrad = true;
        t.Name = name;
        return t;
    }

    // ---- views and copies ----------------------------------------------------------------------------------

    /// <summary>A copy with the same shape that does not require a gradient.</summary>
    public Tensor Clone()
    {
        var t = Empty(_shape);
        Data.CopyTo(t.Data);
        return t;
    }

    /// <summary>The same storage without gradient tracking.</summary>
    public Tensor Detach() => new(Buffer, Offset, _shape);

    /// <summary>Copies the elements into a new array.</summary>
    public float[] ToArray() => Data.ToArray();

    /// <summary>The single value of a one-element tensor.</summary>
    public float ToScalar()
    {
        if (Length != 1) throw new InvalidOperationException($"ToScalar() needs one element; shape is {FormatShape(_shape)}.");
        return Buffer[Offset];
    }

    /// <summary>A view with another shape (one dimension may be -1); differentiable.</summary>
    public Tensor Reshape(params int[] shape) => Ops.Reshape(this, shape);

    internal Tensor View(int[] shape) => new(Buffer, Offset, shape);

    internal Tensor View(int offset, int[] shape) => new(Buffer, Offset + offset, shape);

    // ---- gradients -----------------------------------------------------------------------------------------

    /// <summary>
    /// The gradient storage to write into. When <paramref name="accumulate"/> is false the buffer is fresh and
    /// uninitialised (the caller overwrites it); otherwise the caller adds to it. Leaves get plain arrays that
    /// outlive scopes; intermediate tensors get pooled storage.
    /// </summary>
    public Span<float> GradBuffer(out bool accumulate)
    {
        if (Grad is { } g)
        {
            accumulate = true;
            return g.Data;
        }
        accumulate = false;
        Grad = IsLeaf ? new Tensor(new float[Length], 0, _shape) : new Tensor(TensorScope.Allocate(Length, clear: false), 0, _shape);
        return Grad.Data;
    }

    /// <summary>Adds <paramref name="values"/> to this tensor's gradient.</summary>
    public void AccumulateGrad(ReadOnlySpan<float> values)
    {
        var g = GradBuffer(out bool accumulate);
        if (accumulate) Kernels.Elementwise.AddInPlace(g, values); else values.CopyTo(g);
    }

    /// <summary>Clears the gradient (keeps the storage of leaves).</summary>
    public void ZeroGrad()
    {
        if (Grad is null) return;
        if (IsLeaf) Grad.Data.Clear(); else Grad = null;
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    internal int NormalizeAxis(int axis)
    {
        int r = _shape.Length;
        int a = axis < 0 ? axis + r : axis;
        if (a < 0 || a >= r) throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Axis out of range for shape {FormatShape(_shape)}.");
        return a;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != _shape.Length) throw new ArgumentException($"Index of rank {index.Length} for shape {FormatShape(_shape)}.");
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)_shape[i]) throw new IndexOutOfRangeException($"Index {index[i]} out of range for axis {i} of shape {FormatShape(_shape)}.");
            flat = flat * _shape[i] + index[i];
        }
        return flat;
    }

    internal static int Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension in shape {FormatShape(shape)}.");
            n *= d;
        }
        if (n > int.MaxValue) throw new ArgumentException($"Shape {FormatShape(shape)} has more than 2^31 elements.");
        return (int)n;
    }

    /// <summary>Formats a shape as [a, b, c].</summary>
    public static string FormatShape(ReadOnlySpan<int> shape)
    {
        var sb = new System.Text.StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i]);
        }
        return sb.Append(']').ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => $"Tensor{FormatShape(_shape)}{(Name is null ? "" : " " + Name)}";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool SameShape(Tensor other) => _shape.AsSpan().SequenceEqual(other._shape);
}
