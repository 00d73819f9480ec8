using System.Diagnostics;

namespace CrossModal.Tensors.IO;

/// <summary>
/// Writes a file so that readers see either the old complete file or the new complete file, never a partial one:
/// the content goes to a temporary file in the same folder, is flushed to disk, then renamed over the target.
/// If writing fails (a full disk, a read-only folder) the target is untouched, the temporary file is removed, and
/// the <see cref="IOException"/> names the target and says that the previous file is unchanged. A process killed
/// mid-write leaves only its temporary file (".name.PID.GUID.tmp"), which <see cref="RemoveLeftovers"/> deletes.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        long? haltAt = TestHalt.ForWrite(full); // null unless a crash test asks (see TestHalt)
        try
        {
            Directory.CreateDirectory(dir);
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(haltAt >= 0 ? new TestHalt.HaltingStream(fs, haltAt.Value) : fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw new IOException($"{full}: could not be written ({e.Message}); {(File.Exists(full) ? "the previous file is unchanged" : "nothing was written")}.", e);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
        if (haltAt == TestHalt.AfterRename) TestHalt.Halt($"{full} written");
    }

    /// <summary>
    /// Deletes the temporary files that writes of <paramref name="path"/> left behind when their process was killed
    /// mid-write (".name.PID.GUID.tmp" of a process that no longer runs). They are never read; this frees the space.
    /// </summary>
    public static void RemoveLeftovers(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        string prefix = $".{Path.GetFileName(full)}.";
        if (!Directory.Exists(dir)) return;
        foreach (var tmp in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
        {
            var parts = Path.GetFileName(tmp)[prefix.Length..^".tmp".Length].Split('.');
            if (parts.Length == 2 && int.TryParse(parts[0], out int pid) && Guid.TryParseExact(parts[1], "N", out _) && !IsRunning(pid))
                TryDelete(tmp);
        }
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Writes text atomically (UTF-8 without BOM).</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s =>
        {
            var bytes = new System.Text.UTF8Encoding(false).GetBytes(text);
            s.Write(bytes, 0, bytes.Length);
        });
}
