using System.Diagnostics;

namespace CrossModal.Tests;

/// <summary>
/// Runs a .NET program under Open MPI's mpirun (with --allow-run-as-root --oversubscribe: CI runs as root, and with
/// more ranks than cores). Tests that need it skip when mpirun is not installed, unless CROSSMODAL_REQUIRE_MPI=1
/// (set by .ci/run, which installs Open MPI), where its absence fails them.
/// </summary>
internal static class MpiRun
{
    /// <summary>Set to 1 where a missing mpirun must fail the MPI tests instead of skipping them.</summary>
    public const string RequireVariable = "CROSSMODAL_REQUIRE_MPI";

    /// <summary>mpirun's path, or null.</summary>
    public static string? Mpirun => Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator)
        .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);

    /// <summary>Skips the calling test without mpirun (fails it when CROSSMODAL_REQUIRE_MPI=1).</summary>
    public static string Require()
    {
        if (Mpirun is { } path) return path;
        const string message = "mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)";
        if (Environment.GetEnvironmentVariable(RequireVariable) == "1") Assert.Fail(message + $", and {RequireVariable}=1 requires it.");
        Assert.Skip(message + ".");
        return "";
    }

    /// <summary>Whether this process is a rank started by mpirun.</summary>
    public static bool IsRank => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 };

    /// <summary>
    /// Runs <c>mpirun -np <paramref name="ranks"/> dotnet exec <paramref name="assembly"/> args</c>; returns the exit
    /// code and the output. Fails the test after <paramref name="timeout"/>.
    /// </summary>
    public static Task<(int Exit, string Out, string Err)> Run(int ranks, string assembly, IEnumerable<string> args, TimeSpan timeout) =>
        RunEach(Enumerable.Repeat(args, ranks).Take(1).Select(a => (ranks, a)).ToArray(), assembly, timeout);

    /// <summary>
    /// One job of several programs (mpirun's MPMD form, <c>-np 1 a : -np 1 b</c>): the ranks of each part get that
    /// part's arguments, in order (e.g. one rank given a data folder that does not exist).
    /// </summary>
    public static async Task<(int Exit, string Out, string Err)> RunEach(IReadOnlyList<(int Ranks, IEnumerable<string> Args)> parts, string assembly, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(Require())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--allow-run-as-root");
        psi.ArgumentList.Add("--oversubscribe");
        for (int i = 0; i < parts.Count; i++)
        {
            if (i > 0) psi.ArgumentList.Add(":");
            foreach (var a in new[] { "-np", parts[i].Ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), DotnetHost(), "exec", assembly })
                psi.ArgumentList.Add(a);
            foreach (var a in parts[i].Args) psi.ArgumentList.Add(a);
        }
        int ranks = parts.Sum(p => p.Ranks);
        var args = parts[0].Args;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start mpirun.");
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"mpirun -np {ranks} {Path.GetFileName(assembly)} {string.Join(' ', args)} did not finish in {timeout.TotalSeconds:F0} s.");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The dotnet host that runs this process (the SDK exports DOTNET_HOST_PATH to its children).</summary>
    public static string DotnetHost()
    {
        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath)) return hostPath;
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
