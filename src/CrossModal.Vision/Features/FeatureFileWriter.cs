using System.Runtime.InteropServices;
using CrossModal.Tensors.IO;

namespace CrossModal.Vision.Features;

/// <summary>
/// Collects feature rows into an .npy file whose row count is only known at the end (skipped images): rows are
/// spooled to a temporary file next to the target, then copied behind the header in one atomic write, so memory
/// stays flat for any number of images and a failed run leaves no partial .npy behind.
/// </summary>
public sealed class FeatureFileWriter : IDisposable
{
    private readonly string _path;
    private readonly string _spoolPath;
    private FileStream? _spool;
    private int _rowLength = -1;

    /// <summary>Starts a file at <paramref name="path"/>.</summary>
    public FeatureFileWriter(string path)
    {
        _path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        _spoolPath = Path.Combine(Path.GetDirectoryName(_path)!, $".{Path.GetFileName(_path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.rows");
        _spool = new FileStream(_spoolPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
    }

    /// <summary>Rows written so far.</summary>
    public int Rows { get; private set; }

    /// <summary>The target path.</summary>
    public string FilePath => _path;

    /// <summary>Appends one row; every row must have the same length.</summary>
    public void Append(ReadOnlySpan<float> row)
    {
        var spool = _spool ?? throw new ObjectDisposedException(nameof(FeatureFileWriter));
        if (_rowLength < 0) _rowLength = row.Length;
        else if (row.Length != _rowLength) throw new ArgumentException($"{_path}: row {Rows} has {row.Length} values, earlier rows {_rowLength}.");
        spool.Write(MemoryMarshal.AsBytes(row));
        Rows++;
    }

    /// <summary>Writes the .npy with shape [Rows, ..rowShape] (rowShape must multiply to the row length).</summary>
    public void Complete(ReadOnlySpan<int> rowShape)
    {
        var spool = _spool ?? throw new ObjectDisposedException(nameof(FeatureFileWriter));
        long perRow = 1;
        foreach (int d in rowShape) perRow *= d;
        if (Rows > 0 && perRow != _rowLength) throw new ArgumentException($"{_path}: row shape [{string.Join(", ", rowShape.ToArray())}] does not match rows of {_rowLength} values.");
        var shape = new int[rowShape.Length + 1];
        shape[0] = Rows;
        rowShape.CopyTo(shape.AsSpan(1));
        spool.Flush();
        Npy.WriteStreaming(_path, shape, s =>
        {
            spool.Position = 0;
            spool.CopyTo(s, 1 << 20);
        });
        Dispose();
    }

    /// <summary>Drops the spool file (and the output, if <see cref="Complete"/> was not called).</summary>
    public void Dispose()
    {
        _spool?.Dispose();
        _spool = null;
    }
}
