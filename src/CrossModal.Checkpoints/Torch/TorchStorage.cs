namespace CrossModal.Checkpoints.Torch;

/// <summary>
/// One PyTorch storage: a flat run of <see cref="Numel"/> elements of <see cref="DType"/>. Its bytes arrive when
/// the container reads them (zip: the archive entry; legacy: the raw section after the pickles). A legacy
/// storage view shares a root storage's bytes from an element offset. float32 storages are read straight into a
/// float[] so that a tensor covering the whole storage (every state-dict entry) can use it without a copy.
/// </summary>
internal sealed class TorchStorage
{
    private byte[]? _data;
    private float[]? _floats;

    public TorchStorage(string key, TorchDType dtype, long numel)
    {
        Key = key;
        DType = dtype;
        Numel = numel;
    }

    public TorchStorage(string key, TorchStorage root, long elementOffset, long numel)
        : this(key, root.DType, numel)
    {
        Root = root;
        ElementOffset = elementOffset;
    }

    public string Key { get; }

    public TorchDType DType { get; }

    public long Numel { get; }

    /// <summary>For a view, the storage that owns the bytes.</summary>
    public TorchStorage? Root { get; }

    /// <summary>For a view, where it starts in the root, in elements.</summary>
    public long ElementOffset { get; }

    public long ByteLength => Numel * DType.ElementSize;

    public bool HasData => Root?.HasData ?? (_data is not null || _floats is not null);

    /// <summary>The elements of a float32 root storage, when it was read as floats.</summary>
    public float[]? Floats => Root is null ? _floats : null;

    /// <summary>Reads the storage's bytes from <paramref name="read"/>, which must fill the span it is given.</summary>
    public void ReadData(Action<Span<byte>> read)
    {
        if (Root is not null) throw new InvalidOperationException("A storage view has no data of its own.");
        if (ByteLength > int.MaxValue) throw new InvalidOperationException($"Storage {Key} is larger than 2 GB.");
        if (DType == TorchDType.Float32)
        {
            var floats = new float[Numel];
            read(System.Runtime.InteropServices.MemoryMarshal.AsBytes(floats.AsSpan()));
            _floats = floats;
        }
        else
        {
            var data = new byte[ByteLength];
            read(data);
            _data = data;
        }
    }

    /// <summary>The storage's bytes (a view's slice of its root).</summary>
    public ReadOnlySpan<byte> Bytes
    {
        get
        {
            if (Root is not null) return Root.Bytes.Slice(checked((int)(ElementOffset * DType.ElementSize)), checked((int)ByteLength));
            if (_floats is not null) return System.Runtime.InteropServices.MemoryMarshal.AsBytes(_floats.AsSpan());
            return _data ?? throw new InvalidOperationException($"Storage {Key} has not been read.");
        }
    }
}
