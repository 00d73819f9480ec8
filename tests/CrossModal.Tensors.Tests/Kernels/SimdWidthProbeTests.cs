using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Tensors.Tests.Kernels;

/// <summary>
/// Runs inside every kernel test run, including the child runs that <see cref="SimdWidthTests"/> starts with
/// AVX-512 or AVX2 switched off: it proves the child really runs at the narrower width and reports the kernel it
/// used back to the parent.
/// </summary>
[Trait("Category", "Kernel")]
public class SimdWidthProbeTests
{
    /// <summary>Set by the parent: the kernel family the child must be using ("avx2" or "scalar").</summary>
    internal const string ExpectVariable = "CROSSMODAL_EXPECT_SIMD";

    /// <summary>Set by the parent: a file the child writes the kernel family it used into.</summary>
    internal const string ReportVariable = "CROSSMODAL_SIMD_REPORT";

    [Fact]
    public void Should_UseTheWidestKernelTheProcessAllows()
    {
        string? expected = Environment.GetEnvironmentVariable(ExpectVariable);
        switch (expected)
        {
            case null or "":
                // A normal run: the kernel follows the hardware.
                string fromHardware = Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? "avx512"
                    : Vector256.IsHardwareAccelerated && Fma.IsSupported ? "avx2" : "scalar";
                Assert.Equal(fromHardware, Gemm.KernelName);
                break;
            case "avx2":
                Assert.False(Vector512.IsHardwareAccelerated, "AVX-512 should have been switched off for this run.");
                Assert.True(Vector256.IsHardwareAccelerated);
                Assert.Equal("avx2", Gemm.KernelName);
                break;
            case "scalar":
                Assert.False(Vector512.IsHardwareAccelerated, "AVX-512 should have been switched off for this run.");
                Assert.False(Vector256.IsHardwareAccelerated, "AVX2 should have been switched off for this run.");
                Assert.Equal("scalar", Gemm.KernelName);
                break;
            default:
                Assert.Fail($"{ExpectVariable}={expected} is not avx2 or scalar.");
                break;
        }
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } report)
            File.WriteAllText(report, Gemm.KernelName);
    }
}
