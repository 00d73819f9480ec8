namespace CrossModal.Fuzz;

/// <summary>Where the committed fixtures are: tests/fixtures under the repository root (the folder with CrossModal.slnx).</summary>
public static class FuzzPaths
{
    /// <summary>The repository root, found above this assembly or the current folder.</summary>
    public static string RepositoryRoot
    {
        get
        {
            foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                    if (File.Exists(Path.Combine(dir.FullName, "CrossModal.slnx"))) return dir.FullName;
            }
            throw new DirectoryNotFoundException("CrossModal.slnx not found above the fuzz runner or the current folder; run it inside the repository.");
        }
    }

    /// <summary>A path under tests/fixtures.</summary>
    public static string Fixture(params string[] parts) => Path.Combine([RepositoryRoot, "tests", "fixtures", .. parts]);

    /// <summary>Every file of a fixture folder matching <paramref name="pattern"/>, in ordinal order, as one-file seeds.</summary>
    public static IReadOnlyList<FuzzSeed> FixtureSeeds(string folder, string pattern)
    {
        var files = Directory.GetFiles(Fixture(folder), pattern);
        Array.Sort(files, StringComparer.Ordinal);
        return files.Select(f => FuzzSeed.Single(Path.GetRelativePath(Fixture(), f), File.ReadAllBytes(f))).ToList();
    }
}
