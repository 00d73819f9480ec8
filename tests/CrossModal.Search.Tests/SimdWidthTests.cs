using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Xml.Linq;

namespace CrossModal.Search.Tests;

/// <summary>
/// Runs this assembly's kernel tests (trait Category=Kernel: exact search, the int8 kernels and index) again in
/// child processes with instruction sets switched off, so that `dotnet test` covers every search kernel:
/// DOTNET_EnableAVX512=0 leaves 256-bit float kernels and AVX-VNNI int8 (where the CPU has it),
/// DOTNET_EnableAVXVNNI=0 on top leaves the AVX2 int8 kernel (what Zen 3 runs), DOTNET_EnableAVX2=0 leaves
/// 128-bit float kernels and scalar int8. The child only runs Kernel-trait tests, which this class does not carry.
/// </summary>
public class SimdWidthTests
{
    public static TheoryData<string, string[]> Widths => new()
    {
        { "v256/avxvnni", new[] { "DOTNET_EnableAVX512=0", "DOTNET_EnableAVX512F=0" } },
        { "v256/avx2", new[] { "DOTNET_EnableAVX512=0", "DOTNET_EnableAVX512F=0", "DOTNET_EnableAVXVNNI=0" } },
        { "v128/scalar", new[] { "DOTNET_EnableAVX2=0" } },
    };

    [Theory]
    [MemberData(nameof(Widths))]
    public async Task Should_PassKernelTests_AtNarrowerWidth(string kernels, string[] switches)
    {
        if (kernels.StartsWith("v256", StringComparison.Ordinal) && !Vector256.IsHardwareAccelerated) Assert.Skip("This machine has no AVX2 to fall back to.");
        if (kernels == "v256/avxvnni" && !AvxVnni.IsSupported) Assert.Skip("This machine has no AVX-VNNI.");
        Assert.Null(Environment.GetEnvironmentVariable(SimdWidthProbeTests.ExpectVariable));

        string assembly = typeof(SimdWidthTests).Assembly.Location;
        string work = Directory.CreateTempSubdirectory("crossmodal-search-simd-").FullName;
        try
        {
            string report = Path.Combine(work, "kernels.txt"), xml = Path.Combine(work, "results.xml");
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
            psi.Environment[SimdWidthProbeTests.ExpectVariable] = kernels;
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
                Assert.Fail($"The {kernels} kernel tests did not finish in 5 minutes.");
            }
            string output = await stdout + await stderr;
            Assert.True(child.ExitCode == 0, $"The {kernels} kernel tests failed (exit code {child.ExitCode}):\n{output}");
            Assert.True(File.Exists(report), $"The probe test did not run in the {kernels} child:\n{output}");
            Assert.Equal(kernels, File.ReadAllText(report));
            var summary = XDocument.Load(xml).Root!.Element("assembly")!;
            int total = (int)summary.Attribute("total")!, failed = (int)summary.Attribute("failed")!;
            Assert.Equal(0, failed);
            Assert.True(total >= 20, $"Only {total} kernel tests ran in the {kernels} child.");
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
