using CrossModal.Tensors.IO;
using CrossModal.Vision.Features;

namespace CrossModal.Vision.Tests.Features;

/// <summary>Adaptive average pooling against torch.nn.functional.adaptive_avg_pool2d (make_fixtures.py), tolerance 1e-6.</summary>
public class GridFeaturesTests
{
    [Theory]
    [InlineData("a", 6)]
    [InlineData("b", 4)]
    [InlineData("c", 5)]
    [InlineData("d", 3)]
    public void Should_MatchPyTorchAdaptiveAvgPool(string name, int grid)
    {
        var x = Npy.ReadFloat32(VisionFixtures.Path("features", $"adaptive_{name}_input.npy"));
        var y = Npy.ReadFloat32(VisionFixtures.Path("features", $"adaptive_{name}_grid{grid}.npy")); // [N, C, G, G]
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var cells = new float[grid * grid * c];
        for (int b = 0; b < n; b++)
        {
            GridFeatures.AdaptiveAveragePool(x.Data.Slice(b * c * h * w, c * h * w), c, h, w, grid, cells);
            for (int ch = 0; ch < c; ch++)
                for (int cell = 0; cell < grid * grid; cell++)
                {
                    float expected = y.Data[(b * c + ch) * grid * grid + cell];
                    Assert.True(Math.Abs(expected - cells[cell * c + ch]) <= 1e-6, $"image {b} channel {ch} cell {cell}: {cells[cell * c + ch]} vs {expected}");
                }
        }
    }

    [Fact]
    public void Should_AverageEachChannel_ForGlobalFeatures()
    {
        var map = new float[] { 1, 2, 3, 4, 10, 20, 30, 40 }; // 2 channels of 2 x 2
        var mean = new float[2];
        GridFeatures.GlobalMean(map, 2, 2, 2, mean);
        Assert.Equal(new[] { 2.5f, 25f }, mean);
    }
}
