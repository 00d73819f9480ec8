using CrossModal.Tests;

namespace CrossModal.Tensors.Tests.Kernels;

/// <summary>
/// Runs the engine's kernel tests (trait Category=Kernel) again with AVX-512, then AVX2, switched off
/// (<see cref="SimdWidths"/>), so that `dotnet test` alone covers every GEMM and element-wise SIMD path.
/// </summary>
public class SimdWidthTests
{
    public static TheoryData<string, string[]> Widths => SimdWidths.Narrower;

    [Theory]
    [MemberData(nameof(Widths))]
    public Task Should_PassKernelTests_AtNarrowerWidth(string kernel, string[] switches) =>
        SimdWidths.RunChild(typeof(SimdWidthTests).Assembly, kernel, switches, minimumTests: 20);
}
