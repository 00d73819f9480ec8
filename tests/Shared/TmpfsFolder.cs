using System.Diagnostics;

namespace CrossModal.Tests;

/// <summary>
/// A small tmpfs mounted on a temporary folder: a real file system that runs out of space, so a write fails halfway
/// with ENOSPC as on a full disk, and that can be remounted read-only (EROFS; root ignores file permissions, so a
/// read-only mount is the honest way to refuse writes). Mounting needs root (CI runs as root); elsewhere the test is
/// skipped with a reason.
/// </summary>
internal sealed class TmpfsFolder : IDisposable
{
    public TmpfsFolder(int kilobytes)
    {
        Directory = Path.Combine(Path.GetTempPath(), $"crossmodal-tmpfs-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        if (Environment.UserName != "root") Assert.Skip("Mounting a tmpfs needs root (CI runs as root).");
        var (exit, output) = Run("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k", "tmpfs", Directory);
        Assert.True(exit == 0, $"mount -t tmpfs failed as root: {output}");
    }

    public string Directory { get; }

    /// <summary>Remounts the folder read-only (true) or writable again (false).</summary>
    public void SetReadOnly(bool readOnly)
    {
        var (exit, output) = Run("mount", "-o", readOnly ? "remount,ro" : "remount,rw", Directory);
        Assert.True(exit == 0, $"mount -o remount failed: {output}");
    }

    /// <summary>Fills the remaining space with a file (the returned path); deleting it frees the space again.</summary>
    public string Fill()
    {
        string path = Path.Combine(Directory, "filler.bin");
        var block = new byte[4096];
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true) fs.Write(block);
        }
        catch (IOException)
        {
            // ENOSPC: full. Fill the last partial block byte by byte so nothing is left.
            try { while (true) fs.Write(block, 0, 1); }
            catch (IOException) { }
        }
        return path;
    }

    public void Dispose()
    {
        Run("umount", Directory);
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }

    private static (int Exit, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }
}
