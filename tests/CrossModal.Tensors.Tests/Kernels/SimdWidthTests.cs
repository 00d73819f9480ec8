using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Xml.Linq;

namespace CrossModal.Tensors.Tests.Kernels;

/// <summary>
/// Runs the kernel tests (trait Category=Kernel) again in child processes of this test assembly (an xunit v3
/// executable) with the wider instruction sets switched off, so that `dotnet test` alone covers every SIMD path:
/// DOTNET_EnableAVX512=0 leaves AVX2 (the 256-bit kernels), DOTNET_EnableAVX2=0 leaves the scalar kernels.
/// (.NET 10 folds the AVX-512 subsets into the one EnableAVX512 switch; EnableAVX512F alone no longer does
/// anything, so both are set.) The child only runs Kernel-trait tests, which this class does not carry, so it
/// cannot recurse.
/// </summary>
public class SimdWidthTests
{
    public static TheoryData<string, string[]> Widths => new()
    {
        { "avx2", new[] { "DOTNET_EnableAVX512=0", "DOTNET_EnableAVX512F=0" } },
        { "scalar", new[] { "DOTNET_EnableAVX2=0" } },
    };

    [Theory]
    [MemberData(nameof(Widths))]
    public async Task Should_PassKernelTests_AtNarrowerWidth(string kernel, string[] switches)
    {
        if (kernel == "avx2" && !Vector256.IsHardwareAccelerated) Assert.Skip("This machine has no AVX2 to fall back to.");
        // A child run never starts children of its own (it also filters to Kernel tests, which excludes this class).
        Assert.Null(Environment.GetEnvironmentVariable(SimdWidthProbeTests.ExpectVariable));

        string assembly = typeof(SimdWidthTests).Assembly.Location;
        string work = Directory.CreateTempSubdirectory("crossmodal-simd-").FullName;
        try
        {
            string report = Path.Combine(work, "kernel.txt"), xml = Path.Combine(work, "results.xml");
            var psi = new ProcessStartInfo(DotnetHost())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetDirectoryName(assembly)!,
            };
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(assembly);
            foreach (var arg in new[] { "-trait", "Category=Kernel", "-noLogo", "-noColor", "-reporter", "quiet", "-xml", xml })
                psi.ArgumentList.Add(arg);
            foreach (var s in switches)
            {
                var parts = s.Split('=');
                psi.Environment[parts[0]] = parts[1];
            }
            psi.Environment[SimdWidthProbeTests.ExpectVariable] = kernel;
            psi.Environment[SimdWidthProbeTests.ReportVariable] = report;

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
            Assert.True(total >= 20, $"Only {total} kernel tests ran in the {kernel} child.");
        }
        finally { Directory.Delete(work, recursive: true); }
    }

    /// <summary>The dotnet host that runs this process (the SDK exports DOTNET_HOST_PATH to its children).</summary>
    private static string DotnetHost()
    {
        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath)) return hostPath;
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
