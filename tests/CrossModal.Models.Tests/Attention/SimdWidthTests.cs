using System.Numerics;
using System.Runtime.Intrinsics;
using CrossModal.Tests;

namespace CrossModal.Models.Tests.Attention;

/// <summary>
/// The hand-written vector code of the attention stages (Vector&lt;float&gt; loops with scalar tails) runs at every
/// width: the stage tests (trait Category=Kernel) run again with AVX-512, then AVX2, switched off.
/// </summary>
public class SimdWidthTests
{
    public static TheoryData<string, string[]> Widths => SimdWidths.Narrower;

    [Theory]
    [MemberData(nameof(Widths))]
    public Task Should_PassTheStageTests_AtNarrowerWidth(string kernel, string[] switches) =>
        SimdWidths.RunChild(typeof(SimdWidthTests).Assembly, kernel, switches, minimumTests: 10);
}

/// <summary>Proves the width of a child run of <see cref="SimdWidthTests"/> (Vector&lt;float&gt; is 8 floats with AVX2, 4 without).</summary>
[Trait("Category", "Kernel")]
public class SimdWidthProbeTests
{
    [Fact]
    public void Should_RunAtTheWidthTheParentAskedFor()
    {
        switch (SimdWidths.Expected)
        {
            case null:
                Assert.Equal(Vector256.IsHardwareAccelerated ? 8 : 4, Vector<float>.Count);
                break;
            case "avx2":
                Assert.False(Vector512.IsHardwareAccelerated, "AVX-512 should have been switched off for this run.");
                Assert.Equal(8, Vector<float>.Count);
                break;
            case "scalar":
                Assert.False(Vector256.IsHardwareAccelerated, "AVX2 should have been switched off for this run.");
                Assert.Equal(4, Vector<float>.Count);
                break;
            default:
                Assert.Fail($"{SimdWidths.ExpectVariable}={SimdWidths.Expected} is not avx2 or scalar.");
                break;
        }
        SimdWidths.Report(SimdWidths.Expected ?? "native");
    }
}
