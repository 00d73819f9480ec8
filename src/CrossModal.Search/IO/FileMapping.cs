using System.IO.MemoryMappedFiles;

namespace CrossModal.Search.IO;

/// <summary>A whole file mapped read-only, with a pointer to its first byte; dispose to unmap.</summary>
internal sealed unsafe class FileMapping : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private bool _disposed;

    private FileMapping(MemoryMappedFile file, MemoryMappedViewAccessor view, byte* pointer)
    {
        _file = file;
        _view = view;
        Pointer = pointer;
    }

    public byte* Pointer { get; }

    public static FileMapping Open(string path)
    {
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new FileMapping(file, view, p + view.PointerOffset);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
