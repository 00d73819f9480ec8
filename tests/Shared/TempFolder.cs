namespace CrossModal.Tests;

/// <summary>A fresh folder under the temp directory, deleted with everything in it on dispose, also when the test fails.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "crossmodal-test-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>A path inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
