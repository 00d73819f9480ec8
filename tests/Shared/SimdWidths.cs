using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Xml.Linq;

namespace CrossModal.Tests;

/// <summary>
/// Runs a test assembly's kernel tests (trait Category=Kernel) again in child processes (xunit v3 test assemblies are
/// executables) with the wider instruction sets switched off, so that `dotnet test` alone covers every SIMD path:
/// DOTNET_EnableAVX512=0 leaves AVX2 (256-bit code), DOTNET_EnableAVX2=0 leaves 128-bit and scalar code.
/// (.NET 10 folds the AVX-512 subsets into the one EnableAVX512 switch; EnableAVX512F alone no longer does anything,
/// so both are set.) Each assembly has a probe test carrying the trait that proves the child's width and reports
/// which kernel it used; the child only runs Kernel-trait tests, so it cannot recurse.
/// </summary>
internal static class SimdWidths
{
    /// <summary>Set by the parent: the width the child must be running at ("avx2" or "scalar").</summary>
    public const string ExpectVariable = "CROSSMODAL_EXPECT_SIMD";

    /// <summary>Set by the parent: a file the child's probe writes the kernel it used into.</summary>
    public const string ReportVariable = "CROSSMODAL_SIMD_REPORT";

    /// <summary>The narrower widths and the switches that select them.</summary>
    public static TheoryData<string, string[]> Narrower => new()
    {
        { "avx2", new[] { "DOTNET_EnableAVX512=0", "DOTNET_EnableAVX512F=0" } },
        { "scalar", new[] { "DOTNET_EnableAVX2=0" } },
    };

    /// <summary>The width the parent asked this child for, or null in a normal run.</summary>
    public static string? Expected => Environment.GetEnvironmentVariable(ExpectVariable) is { Length: > 0 } e ? e : null;

    /// <summary>Called by a probe test: reports the kernel name to the parent when running as a child.</summary>
    public static void Report(string kernel)
    {
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } report) File.WriteAllText(report, kernel);
    }

    /// <summary>
    /// Runs <paramref name="assembly"/>'s Kernel-trait tests in a child with <paramref name="switches"/>; asserts
    /// that they pass, that the probe reported <paramref name="kernel"/>, and that at least
    /// <paramref name="minimumTests"/> ran.
    /// </summary>
    public static async Task RunChild(System.Reflection.Assembly assembly, string kernel, string[] switches, int minimumTests)
    {
        if (kernel == "avx2" && !Vector256.IsHardwareAccelerated) Assert.Skip("This machine has no AVX2 to fall back to.");
        // A child run never starts children of its own (it also filters to Kernel tests, which excludes the caller).
        Assert.Null(Expected);

        string path = assembly.Location;
        string work = Directory.CreateTempSubdirectory("crossmodal-simd-").FullName;
        try
        {
            string report = Path.Combine(work, "kernel.txt"), xml = Path.Combine(work, "results.xml");
            var psi = new ProcessStartInfo(DotnetHost())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetDirectoryName(path)!,
            };
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(path);
            foreach (var arg in new[] { "-trait", "Category=Kernel", "-noLogo", "-noColor", "-reporter", "quiet", "-xml", xml })
                psi.ArgumentList.Add(arg);
            foreach (var s in switches)
            {
                var parts = s.Split('=');
                psi.Environment[parts[0]] = parts[1];
            }
            psi.Environment[ExpectVariable] = kernel;
            psi.Environment[ReportVariable] = report;

            using var child = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {psi.FileName}.");
            var stderr = child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stdout = child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(5));
            try { await child.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
                Assert.Fail($"The {kernel} kernel tests did not finish in 5 minutes.");
            }
            string output = await stdout + await stderr;
            Assert.True(child.ExitCode == 0, $"The {kernel} kernel tests failed (exit code {child.ExitCode}):\n{output}");

            // The child proved its width (the probe asserts it) and said which kernels it used.
            Assert.True(File.Exists(report), $"The probe test did not run in the {kernel} child:\n{output}");
            Assert.Equal(kernel, File.ReadAllText(report));
            var summary = XDocument.Load(xml).Root!.Element("assembly")!;
            int total = (int)summary.Attribute("total")!, failed = (int)summary.Attribute("failed")!;
            Assert.Equal(0, failed);
            Assert.True(total >= minimumTests, $"Only {total} kernel tests ran in the {kernel} child.");
        }
        finally { Directory.Delete(work, recursive: true); }
    }

    /// <summary>The dotnet host that runs this process (the SDK exports DOTNET_HOST_PATH to its children).</summary>
    internal static string DotnetHost()
    {
        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath)) return hostPath;
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
