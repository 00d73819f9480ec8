using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CrossModal.Tests;

namespace CrossModal.Search.Tests;

/// <summary>
/// Runs this assembly's kernel tests (trait Category=Kernel: exact search, the int8 kernels and index) again in
/// child processes with instruction sets switched off (<see cref="SimdWidths.RunChild"/>), so that `dotnet test`
/// covers every search kernel: DOTNET_EnableAVX512=0 leaves 256-bit float kernels and AVX-VNNI int8 (where the CPU
/// has it), DOTNET_EnableAVXVNNI=0 on top leaves the AVX2 int8 kernel (what Zen 3 runs), DOTNET_EnableAVX2=0 leaves
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
        await SimdWidths.RunChild(typeof(SimdWidthTests).Assembly, kernels, switches, minimumTests: 20);
    }
}
