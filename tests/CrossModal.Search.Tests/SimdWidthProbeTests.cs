using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CrossModal.Search.Exact;
using CrossModal.Search.Quantized;
using CrossModal.Tests;

namespace CrossModal.Search.Tests;

/// <summary>
/// Runs in every kernel test run, including the children of <see cref="SimdWidthTests"/>: proves that a child
/// really uses the narrower kernels ("float kernel/int8 kernel") and reports them back to the parent.
/// </summary>
[Trait("Category", "Kernel")]
public class SimdWidthProbeTests
{
    [Fact]
    public void Should_UseTheWidestKernelsTheProcessAllows()
    {
        string used = $"{DotScan.KernelName}/{Int8Dot.KernelName}";
        string? expected = SimdWidths.Expected;
        if (string.IsNullOrEmpty(expected))
        {
            string floats = Vector512.IsHardwareAccelerated ? "v512" : Vector256.IsHardwareAccelerated ? "v256" : "v128";
            string ints = AvxVnni.IsSupported && Avx2.IsSupported ? "avxvnni" : Avx2.IsSupported ? "avx2" : "scalar";
            Assert.Equal($"{floats}/{ints}", used);
        }
        else
        {
            Assert.False(Vector512.IsHardwareAccelerated, "AVX-512 should have been switched off for this run.");
            Assert.Equal(expected, used);
        }
        SimdWidths.Report(used);
    }
}
