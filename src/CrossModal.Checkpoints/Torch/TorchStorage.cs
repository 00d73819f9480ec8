namespace CrossModal.Checkpoints.Torch;

/// <summary>
/// One PyTorch storage: a flat run of <see cref="Numel"/> elements of <see cref="DType"/>. Its bytes arrive when
/// the container reads them (zip: the archive entry; legacy: the raw section after the pickles). A legacy
/// storage view shares a root storage's bytes from an element offset.
/// </summary>
internal sealed class TorchStorage
{
    private byte[]? _data;

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

    public bool HasData => Root?.HasData ?? _data is not null;

    public void SetData(byte[] data)
    {
        if (Root is not null) throw new InvalidOperationException("A storage view has no data of its own.");
        if (data.LongLength != ByteLength) throw new InvalidOperationException($"Storage {Key} expects {ByteLength} bytes, got {data.Length}.");
        _data = data;
    }

    /// <summary>The storage's bytes (a view's slice of its root).</summary>
    public ReadOnlySpan<byte> Bytes
    {
        get
        {
            if (Root is not null) return Root.Bytes.Slice(checked((int)(ElementOffset * DType.ElementSize)), checked((int)ByteLength));
            return _data ?? throw new InvalidOperationException($"Storage {Key} has not been read.");
        }
    }
}
