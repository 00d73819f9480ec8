using CrossModal.Checkpoints.Pickle;
using CrossModal.Checkpoints.Python;
using CrossModal.Checkpoints.Torch;

namespace CrossModal.Checkpoints;

/// <summary>
/// Reads a plain pickle file (e.g. VSE++'s <c>vocab/*_vocab.pkl</c>) with the same restricted unpickler as
/// <see cref="TorchCheckpoint"/>: data only, nothing executed. Classes listed in <c>inertClasses</c>
/// ("__main__.Vocabulary") become <see cref="PyObject"/>s holding just their attributes; any other non-allow-listed
/// global, and any persistent id, is an <see cref="InvalidDataException"/> naming it. Values are the types listed in
/// <see cref="PyValue"/>.
/// </summary>
public static class PickleFile
{
    /// <summary>Reads the pickle in <paramref name="path"/>.</summary>
    public static object? Load(string path, IReadOnlyCollection<string>? inertClasses = null, TorchLoadLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Load(fs, path, inertClasses, limits, cancellationToken);
    }

    /// <summary>Reads a pickle held in memory; <paramref name="name"/> names it in messages.</summary>
    public static object? Parse(byte[] bytes, string name, IReadOnlyCollection<string>? inertClasses = null, TorchLoadLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var ms = new MemoryStream(bytes, writable: false);
        return Load(ms, name, inertClasses, limits, cancellationToken);
    }

    private static object? Load(Stream stream, string name, IReadOnlyCollection<string>? inertClasses, TorchLoadLimits? limits, CancellationToken cancellationToken)
    {
        var input = new PickleInput(stream, stream.Length, name, "pickle");
        var tensors = new List<TorchTensor>();
        object? NoPersistentIds(object? pid) => throw new InvalidDataException("the pickle refers to external objects (persistent ids); use TorchCheckpoint for torch files");
        var reader = new PickleReader(input, limits ?? TorchLoadLimits.Default, NoPersistentIds, tensors, inertClasses);
        return reader.Load(cancellationToken);
    }
}
