using System.Buffers.Binary;
using System.Numerics;
using CrossModal.Checkpoints.Pickle;
using CrossModal.Checkpoints.Python;

namespace CrossModal.Checkpoints.Torch;

/// <summary>
/// Reads the legacy serialisation (torch &lt; 1.6, or <c>_use_new_zipfile_serialization=False</c>): a pickled magic
/// number 0x1950a86a20f9469cfc6c, the protocol version 1001, a sys-info dict, the object pickle (storages are
/// persistent ids <c>('storage', type, root_key, location, numel, view_metadata)</c>), a pickled list of storage
/// keys, then for each key an 8-byte little-endian element count followed by the raw elements.
/// </summary>
internal static class LegacyCheckpointReader
{
    private static readonly BigInteger Magic = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);

    public static (object? Root, List<TorchTensor> Tensors) Read(Stream stream, string name, TorchLoadLimits limits, CancellationToken cancellationToken)
    {
        long end = stream.Length;
        var tensors = new List<TorchTensor>();
        object? NoPersistentIds(object? pid) => throw new InvalidDataException("unexpected persistent id in a header pickle");

        var magic = Run(stream, end, name, "magic-number pickle", limits, NoPersistentIds, tensors, cancellationToken);
        if (!(magic is long m && m == Magic) && !(magic is BigInteger b && b == Magic))
            throw new InvalidDataException($"{name}: starts with a pickle but not with torch's magic number (found {PyValue.Describe(magic)}); not a PyTorch checkpoint.");
        var protocol = Run(stream, end, name, "protocol-version pickle", limits, NoPersistentIds, tensors, cancellationToken);
        if (protocol is not 1001L) throw new InvalidDataException($"{name}: legacy protocol version is {PyValue.Describe(protocol)}, expected 1001.");
        var sysInfo = Run(stream, end, name, "sys-info pickle", limits, NoPersistentIds, tensors, cancellationToken);
        if (sysInfo is not PyDict info) throw new InvalidDataException($"{name}: sys-info is a {PyValue.TypeName(sysInfo)}, expected a dict.");
        if (info.TryGetValue("little_endian", out var little) && little is false)
            throw new InvalidDataException($"{name}: the checkpoint was written on a big-endian machine; only little-endian checkpoints are supported.");

        var roots = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
        var views = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
        object? PersistentLoad(object? pid)
        {
            var id = StorageKeys.Parse(pid, legacy: true);
            if (!roots.TryGetValue(id.Key, out var root))
            {
                root = new TorchStorage(id.Key, id.DType, id.Numel);
                roots.Add(id.Key, root);
            }
            else if (root.DType != id.DType || root.Numel != id.Numel)
                throw new InvalidDataException($"storage '{id.Key}' is described twice differently ({root.DType.Name} x {root.Numel}, then {id.DType.Name} x {id.Numel})");
            if (id.View is null) return root;
            if (id.View.Count != 3 || id.View[0] is not string viewKey || id.View[1] is not long offset || id.View[2] is not long size)
                throw new InvalidDataException("storage view metadata is not (key, offset, size)");
            if (offset < 0 || size < 0 || offset > root.Numel || size > root.Numel - offset)
                throw new InvalidDataException($"storage view '{viewKey}' [{offset}, {offset}+{size}) lies outside its root of {root.Numel} elements");
            if (!views.TryGetValue(viewKey, out var view))
            {
                view = new TorchStorage(viewKey, root, offset, size);
                views.Add(viewKey, view);
            }
            return view;
        }

        var result = Run(stream, end, name, "object pickle", limits, PersistentLoad, tensors, cancellationToken);
        var keyList = Run(stream, end, name, "storage-key pickle", limits, NoPersistentIds, tensors, cancellationToken);
        if (keyList is not PyList keys) throw new InvalidDataException($"{name}: the storage-key list is a {PyValue.TypeName(keyList)}, expected a list.");

        Span<byte> countBytes = stackalloc byte[8];
        foreach (var k in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (k is not string key) throw new InvalidDataException($"{name}: storage key {PyValue.Describe(k)} is not a string.");
            if (!roots.TryGetValue(key, out var storage)) throw new InvalidDataException($"{name}: storage '{key}' is listed but no tensor uses it.");
            if (storage.HasData) throw new InvalidDataException($"{name}: storage '{key}' is listed twice.");
            long at = stream.Position;
            if (end - at < 8) throw new InvalidDataException($"{name}: truncated before the element count of storage '{key}' (at byte {at}).");
            stream.ReadExactly(countBytes);
            long count = BinaryPrimitives.ReadInt64LittleEndian(countBytes);
            if (count != storage.Numel)
                throw new InvalidDataException($"{name}: storage '{key}' has {count} elements in its data section but {storage.Numel} in the pickle (at byte {at}).");
            long bytes = storage.ByteLength;
            if (bytes > end - stream.Position)
                throw new InvalidDataException($"{name}: storage '{key}' needs {bytes} bytes but only {end - stream.Position} remain; the file is truncated (at byte {stream.Position}).");
            if (bytes > int.MaxValue) throw new InvalidDataException($"{name}: storage '{key}' of {bytes} bytes is larger than 2 GB; not supported.");
            storage.ReadData(buffer => stream.ReadExactly(buffer));
        }
        foreach (var storage in roots.Values)
            if (!storage.HasData) throw new InvalidDataException($"{name}: storage '{storage.Key}' is used by a tensor but its data is not in the file.");
        return (result, tensors);
    }

    private static object? Run(Stream stream, long end, string name, string section, TorchLoadLimits limits,
        Func<object?, object?> persistentLoad, List<TorchTensor> tensors, CancellationToken cancellationToken)
    {
        var input = new PickleInput(stream, end, name, section);
        return new PickleReader(input, limits, persistentLoad, tensors).Load(cancellationToken);
    }
}
