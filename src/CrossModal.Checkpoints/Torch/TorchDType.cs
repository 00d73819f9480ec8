namespace CrossModal.Checkpoints.Torch;

/// <summary>A storage element type: PyTorch's dtype name, bytes per element, and the legacy storage class name.</summary>
internal sealed record TorchDType(string Name, int ElementSize, string StorageClass)
{
    public static readonly TorchDType Float32 = new("float32", 4, "FloatStorage");
    public static readonly TorchDType Float64 = new("float64", 8, "DoubleStorage");
    public static readonly TorchDType Float16 = new("float16", 2, "HalfStorage");
    public static readonly TorchDType BFloat16 = new("bfloat16", 2, "BFloat16Storage");
    public static readonly TorchDType Int64 = new("int64", 8, "LongStorage");
    public static readonly TorchDType Int32 = new("int32", 4, "IntStorage");
    public static readonly TorchDType Int16 = new("int16", 2, "ShortStorage");
    public static readonly TorchDType Int8 = new("int8", 1, "CharStorage");
    public static readonly TorchDType UInt8 = new("uint8", 1, "ByteStorage");
    public static readonly TorchDType Bool = new("bool", 1, "BoolStorage");

    // UntypedStorage (torch >= 2) holds raw bytes; a tensor on it is read as uint8.
    public static readonly TorchDType Untyped = new("uint8", 1, "UntypedStorage");

    private static readonly Dictionary<string, TorchDType> ByStorageClass = new[]
    {
        Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool, Untyped,
    }.ToDictionary(d => d.StorageClass, StringComparer.Ordinal);

    /// <summary>The dtype of a storage class name such as "FloatStorage", or null if unsupported.</summary>
    public static TorchDType? FromStorageClass(string name) => ByStorageClass.GetValueOrDefault(name);
}
