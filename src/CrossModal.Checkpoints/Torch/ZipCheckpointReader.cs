using System.IO.Compression;
using CrossModal.Checkpoints.Pickle;

namespace CrossModal.Checkpoints.Torch;

/// <summary>
/// Reads the zip serialisation (torch &gt;= 1.6): <c>&lt;folder&gt;/data.pkl</c> holds the object pickle whose
/// persistent ids name storages stored as <c>&lt;folder&gt;/data/&lt;key&gt;</c> (raw little-endian elements). The
/// folder is "archive" or the file's stem depending on the torch version, so it is found, not assumed.
/// </summary>
internal static class ZipCheckpointReader
{
    // Deflate cannot expand data by more than ~1032x; a larger claimed size is a lie (torch stores entries uncompressed).
    private const long MaxDeflateRatio = 1100;

    public static (object? Root, List<TorchTensor> Tensors) Read(Stream stream, string name, TorchLoadLimits limits, CancellationToken cancellationToken)
    {
        using var archive = Guard(name, "the zip directory", () => new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true));
        var entries = Guard(name, "the zip directory", () => archive.Entries.ToList());
        var pickle = FindDataPickle(entries, name);
        string prefix = pickle.FullName[..^"data.pkl".Length];
        var byName = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var e in entries) byName.TryAdd(e.FullName, e);

        if (byName.TryGetValue(prefix + "byteorder", out var order))
        {
            var text = System.Text.Encoding.ASCII.GetString(ReadEntry(order, 16, name)).Trim();
            if (text != "little") throw new InvalidDataException($"{name}: {prefix}byteorder says '{text}'; only little-endian checkpoints are supported.");
        }

        var pickleBytes = ReadEntry(pickle, limits.MaxPickleBytes, name);
        var storages = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
        var tensors = new List<TorchTensor>();
        object? PersistentLoad(object? pid)
        {
            var id = StorageKeys.Parse(pid, legacy: false);
            if (storages.TryGetValue(id.Key, out var known))
            {
                if (known.DType != id.DType) throw new InvalidDataException($"storage '{id.Key}' is used as both {known.DType.Name} and {id.DType.Name}");
                return known;
            }
            cancellationToken.ThrowIfCancellationRequested();
            string entryName = prefix + "data/" + id.Key;
            if (!byName.TryGetValue(entryName, out var entry)) throw new InvalidDataException($"storage entry '{entryName}' is missing from the archive");
            var storage = new TorchStorage(id.Key, id.DType, id.Numel);
            long bytes = id.Numel > long.MaxValue / id.DType.ElementSize ? long.MaxValue : id.Numel * id.DType.ElementSize;
            long available = Guard(name, entryName, () => entry.Length);
            if (bytes > available) throw new InvalidDataException($"storage '{id.Key}' claims {id.Numel} {id.DType.Name} elements ({bytes} bytes) but '{entryName}' holds {available} bytes");
            if (bytes > int.MaxValue) throw new InvalidDataException($"storage '{id.Key}' of {bytes} bytes is larger than 2 GB; not supported");
            ReadStorage(entry, storage, name);
            storages.Add(id.Key, storage);
            return storage;
        }

        using var ms = new MemoryStream(pickleBytes, writable: false);
        var input = new PickleInput(ms, pickleBytes.Length, name, pickle.FullName);
        var root = new PickleReader(input, limits, PersistentLoad, tensors).Load(cancellationToken);
        return (root, tensors);
    }

    private static ZipArchiveEntry FindDataPickle(List<ZipArchiveEntry> entries, string name)
    {
        ZipArchiveEntry? found = null;
        foreach (var e in entries)
        {
            string n = e.FullName;
            if (n != "data.pkl" && !(n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - "/data.pkl".Length)) continue;
            if (found is not null) throw new InvalidDataException($"{name}: the zip archive has two data.pkl entries ('{found.FullName}', '{n}').");
            found = e;
        }
        if (found is not null) return found;
        if (entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal)))
            throw new InvalidDataException($"{name}: this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint.");
        throw new InvalidDataException($"{name}: the zip archive has no <folder>/data.pkl entry; not a PyTorch checkpoint.");
    }

    /// <summary>Reads a whole entry of at most <paramref name="max"/> bytes.</summary>
    private static byte[] ReadEntry(ZipArchiveEntry entry, long max, string name)
    {
        return Guard(name, entry.FullName, () =>
        {
            long length = entry.Length;
            long compressed = entry.CompressedLength;
            if (length < 0) throw new InvalidDataException($"{name}: '{entry.FullName}' has a negative size.");
            if (length > compressed && length / MaxDeflateRatio > compressed)
                throw new InvalidDataException($"{name}: '{entry.FullName}' claims {length} bytes from {compressed} compressed bytes; corrupt.");
            long want = length;
            if (want > max) throw new InvalidDataException($"{name}: '{entry.FullName}' has {length} bytes, more than the limit of {max}.");
            var data = new byte[want];
            using var s = entry.Open();
            try
            {
                s.ReadExactly(data);
            }
            catch (EndOfStreamException)
            {
                throw new InvalidDataException($"{name}: '{entry.FullName}' ends before its {want} bytes; the file is truncated or corrupt.");
            }
            return data;
        });
    }

    /// <summary>Reads the first <see cref="TorchStorage.ByteLength"/> bytes of an entry into the storage.</summary>
    private static void ReadStorage(ZipArchiveEntry entry, TorchStorage storage, string name)
    {
        Guard(name, entry.FullName, () =>
        {
            using var s = entry.Open();
            try
            {
                storage.ReadData(buffer => s.ReadExactly(buffer));
            }
            catch (EndOfStreamException)
            {
                throw new InvalidDataException($"{name}: '{entry.FullName}' ends before its {storage.ByteLength} bytes; the file is truncated or corrupt.");
            }
            return true;
        });
    }

    /// <summary>Runs a zip operation and turns the archive library's failures into one InvalidDataException naming the file.</summary>
    private static T Guard<T>(string name, string what, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(name, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{name}: {what} is unreadable (the file is truncated or corrupt): {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or NotSupportedException or ArgumentException or InvalidOperationException or OverflowException)
        {
            throw new InvalidDataException($"{name}: {what} is unreadable (the file is truncated or corrupt): {e.Message}", e);
        }
    }
}
