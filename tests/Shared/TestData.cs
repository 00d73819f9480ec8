namespace CrossModal.Tests;

/// <summary>
/// Where the tests find real data: $CROSSMODAL_DATA, else ../shared/data above the repository (CI has it there).
/// Data is read in place, never copied into the repository.
/// </summary>
internal static class TestData
{
    private static readonly Lazy<string> RootPath = new(Locate);

    /// <summary>The data folder.</summary>
    public static string Root => RootPath.Value;

    /// <summary>A path under the data folder.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine(new[] { Root }.Concat(parts).ToArray());

    /// <summary>The repository root (the folder with CrossModal.slnx).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "CrossModal.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new DirectoryNotFoundException("CrossModal.slnx not found above the test binaries.");
        }
    }

    /// <summary>A committed fixture under tests/fixtures.</summary>
    public static string Fixture(params string[] parts) => System.IO.Path.Combine(new[] { RepositoryRoot, "tests", "fixtures" }.Concat(parts).ToArray());

    private static string Locate()
    {
        var env = Environment.GetEnvironmentVariable("CROSSMODAL_DATA");
        if (!string.IsNullOrEmpty(env))
        {
            if (!Directory.Exists(env)) throw new DirectoryNotFoundException($"CROSSMODAL_DATA={env} does not exist.");
            return env;
        }
        var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot, "..", "shared", "data"));
        if (Directory.Exists(candidate)) return candidate;
        throw new DirectoryNotFoundException($"Test data not found: set CROSSMODAL_DATA or place it at {candidate}.");
    }
}
