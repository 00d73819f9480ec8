namespace CrossModal.Cli.Tests;

[Collection("Console")]
public class DemoTests
{
    [Fact]
    public void Should_GenerateTrainEvaluateAndSearch_AtTinySettings()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"crossmodal-demo-{Guid.NewGuid():N}");
        try
        {
            var (exit, output, err) = CliRun.Run("demo", "--out", dir, "--images", "60", "--num-epochs", "1", "--embed-size", "32");
            Assert.True(exit == 0, err);
            Assert.Contains("1. generating 60 synthetic scenes", output);
            Assert.Contains("rsum", output);
            // Three queries, each with its top-3 images and their scores.
            Assert.Equal(9, output.Split('\n').Count(l => l.Contains(".png") && double.TryParse(l.TrimStart().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture, out _)));
            Assert.True(File.Exists(Path.Combine(dir, "run", "model_best.safetensors")));
            Assert.True(File.Exists(Path.Combine(dir, "data", "test_ims.npy")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
