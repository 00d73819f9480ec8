using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CrossModal.Tensors.Kernels;
using CrossModal.Tests;

namespace CrossModal.Tensors.Tests.Kernels;

/// <summary>
/// Runs inside every kernel test run, including the child runs that <see cref="SimdWidthTests"/> starts with
/// AVX-512 or AVX2 switched off: it proves the child really runs at the narrower width and reports the kernel it
/// used back to the parent.
/// </summary>
[Trait("Category", "Kernel")]
public class SimdWidthProbeTests
{
    [Fact]
    public void Should_UseTheWidestKernelTheProcessAllows()
    {
        string? expected = SimdWidths.Expected;
        switch (expected)
        {
            case null:
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
                Assert.Fail($"{SimdWidths.ExpectVariable}={expected} is not avx2 or scalar.");
                break;
        }
        SimdWidths.Report(Gemm.KernelName);
    }
}
