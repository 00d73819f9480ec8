using System.Runtime.InteropServices;
using CrossModal.Tensors;

namespace CrossModal.Checkpoints.Torch;

/// <summary>
/// A tensor (or nn.Parameter) read from a PyTorch checkpoint, converted to a contiguous float32
/// <see cref="Tensor"/> in <see cref="Value"/>. <see cref="DType"/> keeps the stored element type ("float32",
/// "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"); integers beyond 2^24
/// and float64 values lose precision in the conversion, which does not matter for model weights.
/// </summary>
public sealed class TorchTensor
{
    private readonly TorchStorage _storage;
    private readonly long _storageOffset;
    private readonly long[] _size;
    private readonly long[] _stride;
    private Tensor? _value;

    internal TorchTensor(TorchStorage storage, long storageOffset, long[] size, long[] stride, bool requiresGrad)
    {
        _storage = storage;
        _storageOffset = storageOffset;
        _size = size;
        _stride = stride;
        RequiresGrad = requiresGrad;
    }

    /// <summary>The values as a contiguous float32 tensor (its shape is PyTorch's <c>size()</c>).</summary>
    public Tensor Value => _value ?? throw new InvalidOperationException("The tensor has not been materialised (the checkpoint is still loading).");

    /// <summary>The stored element type, in PyTorch's spelling ("float32", "int64", ...).</summary>
    public string DType => _storage.DType.Name;

    /// <summary>The shape.</summary>
    public int[] Shape => Value.Shape;

    /// <summary>The saved requires_grad flag.</summary>
    public bool RequiresGrad { get; internal set; }

    /// <summary>True when the pickle stored an nn.Parameter rather than a plain tensor.</summary>
    public bool IsParameter { get; internal set; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{(IsParameter ? "Parameter" : "Tensor")}{FormatShape(_size)} {DType}";

    internal long ElementCountUnchecked
    {
        get
        {
            long n = 1;
            foreach (long d in _size) n = d <= 0 ? 0 : (n > long.MaxValue / d ? long.MaxValue : n * d);
            return n;
        }
    }

    /// <summary>
    /// Validates the view against its storage and copies it into a contiguous float32 tensor. The caller has
    /// already checked the element count against its allocation budget; an out-of-bounds view (a hostile or
    /// corrupt size/stride/offset) is an <see cref="InvalidDataException"/>.
    /// </summary>
    internal void Materialize(string where)
    {
        if (_value is not null) return;
        var shape = new int[_size.Length];
        long numel = 1;
        for (int i = 0; i < _size.Length; i++)
        {
            if (_size[i] < 0 || _size[i] > int.MaxValue) throw new InvalidDataException($"{where}: tensor size {FormatShape(_size)} has an invalid dimension.");
            if (_stride[i] < 0) throw new InvalidDataException($"{where}: tensor stride {FormatShape(_stride)} has a negative entry.");
            shape[i] = (int)_size[i];
            numel *= _size[i];
            if (numel > int.MaxValue) throw new InvalidDataException($"{where}: tensor of size {FormatShape(_size)} has more than 2^31-1 elements.");
        }
        if (_storageOffset < 0) throw new InvalidDataException($"{where}: tensor has a negative storage offset {_storageOffset}.");
        if (_storageOffset == 0 && numel == _storage.Numel && _storage.Floats is { } whole && IsRowMajor(shape, _stride))
        {
            // The common case (a state-dict entry owns its float32 storage): use the storage's array as is.
            _value = Tensor.FromArray(whole, shape);
            return;
        }
        var data = new float[numel];
        if (numel > 0)
        {
            // Highest element the view touches; every term is < 2^31 * 2^63 only in a hostile file, so use Int128.
            Int128 last = _storageOffset;
            for (int i = 0; i < _size.Length; i++) last += (Int128)(_size[i] - 1) * _stride[i];
            if (last >= _storage.Numel)
                throw new InvalidDataException($"{where}: tensor of size {FormatShape(_size)}, stride {FormatShape(_stride)} at offset {_storageOffset} reads element {last} of a storage with {_storage.Numel} elements.");
            Copy(_storage.Bytes, _storage.DType, _storageOffset, shape, _stride, data);
        }
        _value = Tensor.FromArray(data, shape);
    }

    private static void Copy(ReadOnlySpan<byte> bytes, TorchDType dtype, long offset, int[] shape, long[] stride, Span<float> dst)
    {
        int rank = shape.Length;
        if (IsRowMajor(shape, stride))
        {
            Convert(bytes.Slice(checked((int)(offset * dtype.ElementSize)), dst.Length * dtype.ElementSize), dtype, dst);
            return;
        }
        // General strided view: walk the indices odometer-style, converting the innermost axis as a run.
        int inner = shape[rank - 1];
        long innerStride = stride[rank - 1];
        var index = new int[rank];
        int written = 0;
        while (written < dst.Length)
        {
            long start = offset;
            for (int i = 0; i < rank - 1; i++) start += index[i] * stride[i];
            for (int j = 0; j < inner; j++) dst[written + j] = ReadElement(bytes, dtype, start + j * innerStride);
            written += inner;
            for (int axis = rank - 2; axis >= 0; axis--)
            {
                if (++index[axis] < shape[axis]) break;
                index[axis] = 0;
            }
        }
    }

    private static bool IsRowMajor(int[] shape, long[] stride)
    {
        long expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] != 1 && stride[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    private static void Convert(ReadOnlySpan<byte> src, TorchDType dtype, Span<float> dst)
    {
        switch (dtype.Name)
        {
            case "float32": MemoryMarshal.Cast<byte, float>(src).CopyTo(dst); break;
            case "float64": { var s = MemoryMarshal.Cast<byte, double>(src); for (int i = 0; i < dst.Length; i++) dst[i] = (float)s[i]; break; }
            case "float16": { var s = MemoryMarshal.Cast<byte, Half>(src); for (int i = 0; i < dst.Length; i++) dst[i] = (float)s[i]; break; }
            case "bfloat16": { var s = MemoryMarshal.Cast<byte, ushort>(src); for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(s[i] << 16); break; }
            case "int64": { var s = MemoryMarshal.Cast<byte, long>(src); for (int i = 0; i < dst.Length; i++) dst[i] = s[i]; break; }
            case "int32": { var s = MemoryMarshal.Cast<byte, int>(src); for (int i = 0; i < dst.Length; i++) dst[i] = s[i]; break; }
            case "int16": { var s = MemoryMarshal.Cast<byte, short>(src); for (int i = 0; i < dst.Length; i++) dst[i] = s[i]; break; }
            case "int8": for (int i = 0; i < dst.Length; i++) dst[i] = (sbyte)src[i]; break;
            case "bool": for (int i = 0; i < dst.Length; i++) dst[i] = src[i] != 0 ? 1f : 0f; break;
            default: for (int i = 0; i < dst.Length; i++) dst[i] = src[i]; break;
        }
    }

    private static float ReadElement(ReadOnlySpan<byte> bytes, TorchDType dtype, long index)
    {
        var e = bytes.Slice(checked((int)(index * dtype.ElementSize)), dtype.ElementSize);
        Span<float> one = stackalloc float[1];
        Convert(e, dtype, one);
        return one[0];
    }

    private static string FormatShape(long[] values) => "[" + string.Join(", ", values) + "]";
}
