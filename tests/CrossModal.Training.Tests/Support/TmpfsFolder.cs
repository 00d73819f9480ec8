using System.Diagnostics;

namespace CrossModal.Training.Tests.Support;

/// <summary>
/// A small tmpfs mounted on a temporary folder: a real file system that runs out of space, so a write fails halfway
/// with ENOSPC as on a full disk. Mounting needs root (CI runs as root); elsewhere the test is skipped with a reason.
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
