using System.IO.MemoryMappedFiles;

namespace CrossModal.Tensors.IO;

/// <summary>
/// A float32 .npy file mapped into memory rather than read: opening is O(1) in the file size, rows are paged in
/// by the OS when touched. Rows are along the first axis. Dispose to unmap.
/// </summary>
public sealed unsafe class NpyMapped : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private bool _disposed;

    private NpyMapped(string path, NpyHeader header, MemoryMappedFile file, MemoryMappedViewAccessor view, byte* basePtr)
    {
        Path = path;
        Header = header;
        _file = file;
        _view = view;
        _base = basePtr;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Its header.</summary>
    public NpyHeader Header { get; }

    /// <summary>The array's shape.</summary>
    public int[] Shape => Header.Shape;

    /// <summary>Size of the first axis.</summary>
    public int Rows => Header.Shape.Length == 0 ? 1 : Header.Shape[0];

    /// <summary>Floats per row (product of the trailing axes).</summary>
    public int RowLength
    {
        get
        {
            int n = 1;
            for (int i = 1; i < Header.Shape.Length; i++) n *= Header.Shape[i];
            return n;
        }
    }

    /// <summary>Maps a float32 .npy file; errors name the file and the problem.</summary>
    public static NpyMapped Open(string path)
    {
        NpyHeader header;
        long fileLength;
        using (var fs = Npy.OpenRead(path))
        {
            header = NpyHeader.Read(fs, path);
            fileLength = fs.Length;
        }
        if (header.Descr != "<f4")
            throw new InvalidDataException($"{path}: memory-mapped features must be float32 ('<f4'), found '{header.Descr}'.");
        long rowLength = 1;
        for (int i = 1; i < header.Shape.Length && rowLength <= int.MaxValue; i++) rowLength *= header.Shape[i]; // stops before it could wrap
        if (header.Shape.Length > 1 && rowLength > int.MaxValue)
            throw new InvalidDataException($"{path}: rows of {rowLength} values (shape {Tensor.FormatShape(header.Shape)}) are more than 2^31.");
        long need = header.Count * 4;
        if (fileLength - header.DataOffset < need)
            throw new InvalidDataException($"{path}: truncated .npy data: shape {Tensor.FormatShape(header.Shape)} needs {need} bytes, the file holds {fileLength - header.DataOffset}.");
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* ptr = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
        ptr += view.PointerOffset;
        return new NpyMapped(path, header, file, view, ptr);
    }

    /// <summary>All elements (valid until disposed).</summary>
    public ReadOnlySpan<float> All
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return new ReadOnlySpan<float>(_base + Header.DataOffset, checked((int)Header.Count));
        }
    }

    /// <summary>Row <paramref name="index"/> (valid until disposed).</summary>
    public ReadOnlySpan<float> Row(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)index >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(index), index, $"{Path} has {Rows} rows.");
        int len = RowLength;
        return new ReadOnlySpan<float>(_base + Header.DataOffset + (long)index * len * 4, len);
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
