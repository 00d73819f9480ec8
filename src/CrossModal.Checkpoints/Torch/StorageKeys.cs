using CrossModal.Checkpoints.Pickle;
using CrossModal.Checkpoints.Python;

namespace CrossModal.Checkpoints.Torch;

/// <summary>Parses torch's persistent ids <c>('storage', storage_type, key, location, numel[, view_metadata])</c>.</summary>
internal static class StorageKeys
{
    public readonly record struct StorageId(TorchDType DType, string Key, long Numel, PyTuple? View);

    public static StorageId Parse(object? pid, bool legacy)
    {
        if (pid is not PyTuple t || t.Count == 0) throw new InvalidDataException($"persistent id is a {PyValue.TypeName(pid)}, expected a ('storage', ...) tuple");
        if (t[0] is string kind && kind == "module")
            throw new InvalidDataException("the checkpoint pickles a whole nn.Module with its source code; only state dicts (model.state_dict()) can be read");
        if (t[0] is not "storage") throw new InvalidDataException($"persistent id of kind {PyValue.Describe(t[0])} is not supported (expected 'storage')");
        int expected = legacy ? 6 : 5;
        if (t.Count != expected) throw new InvalidDataException($"storage persistent id has {t.Count} fields, expected {expected}");
        if (t[1] is not PyGlobal { Kind: GlobalKind.Storage, StorageType: { } dtype })
            throw new InvalidDataException($"storage type is a {PyValue.TypeName(t[1])}, expected a torch storage class");
        string key = t[2] switch
        {
            string s => s,
            long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new InvalidDataException($"storage key is a {PyValue.TypeName(t[2])}, expected a string"),
        };
        if (t[3] is not string) throw new InvalidDataException($"storage location is a {PyValue.TypeName(t[3])}, expected a string such as 'cpu'");
        if (t[4] is not long numel || numel < 0) throw new InvalidDataException($"storage element count {PyValue.Describe(t[4])} is not a non-negative int");
        if (numel > long.MaxValue / 16) throw new InvalidDataException($"storage element count {numel} is impossibly large");
        PyTuple? view = null;
        if (legacy && t[5] is not null)
            view = t[5] as PyTuple ?? throw new InvalidDataException($"storage view metadata is a {PyValue.TypeName(t[5])}, expected None or a tuple");
        return new StorageId(dtype, key, numel, view);
    }
}
