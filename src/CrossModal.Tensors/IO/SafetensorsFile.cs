namespace CrossModal.Tensors.IO;

/// <summary>The contents of a safetensors file: tensors (as float32), their stored dtypes, metadata, and order.</summary>
public sealed record SafetensorsFile(
    string Path,
    IReadOnlyDictionary<string, Tensor> Tensors,
    IReadOnlyDictionary<string, string> DTypes,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Order)
{
    /// <summary>The tensor called <paramref name="name"/>, or an error naming the file and the missing entry.</summary>
    public Tensor Get(string name) =>
        Tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"{Path}: no tensor named '{name}'.");
}
