using CrossModal.Tests;

namespace CrossModal.Cli.Tests;

/// <summary>Usage errors print help and exit 2; data errors exit 1 with one message naming the file.</summary>
[Collection("Console")]
public class ErrorExitTests
{
    [Fact]
    public void Should_ExitWith2AndHelp_OnAnUnknownOption()
    {
        var (exit, output, err) = CliRun.Run("train", "--no-such-option");
        Assert.Equal(2, exit);
        Assert.Contains("--no-such-option", err);
        Assert.Contains("--max-violation", output); // the verb's help
    }

    [Fact]
    public void Should_ExitWith2_OnAnInvalidChoice()
    {
        var (exit, _, err) = CliRun.Run("train", "--model", "clip");
        Assert.Equal(2, exit);
        Assert.Contains("clip", err);
    }

    [Fact]
    public void Should_ExitWith1AndNameTheFile_WhenACheckpointIsMissing()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.safetensors");
        var (exit, _, err) = CliRun.Run("eval", "--checkpoint", missing, "--data", Path.GetTempPath());
        Assert.Equal(1, exit);
        Assert.Contains(missing, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Should_ExitWith1AndNameTheFiles_WhenASplitIsMissing()
    {
        using var data = new TinyPrecomp();
        File.Delete(Path.Combine(data.Directory, "dev_caps.txt"));
        var (exit, _, err) = CliRun.Run("train", "--data", data.Directory, "--vocab", data.VocabPath, "--out", Path.Combine(data.Directory, "out"), "--num-epochs", "1");
        Assert.Equal(1, exit);
        Assert.Contains("dev_caps.txt", err);
    }

    [Fact]
    public void Should_ExitWith1_WhenTheVocabularyIsNotJson()
    {
        using var data = new TinyPrecomp();
        File.WriteAllText(data.VocabPath, "not json");
        var (exit, _, err) = CliRun.Run("train", "--data", data.Directory, "--vocab", data.VocabPath, "--out", Path.Combine(data.Directory, "out"));
        Assert.Equal(1, exit);
        Assert.Contains(data.VocabPath, err);
    }

    [Fact]
    public void Should_TrainAndEvaluate_FromTheCommandLine()
    {
        using var data = new TinyPrecomp(trainImages: 30);
        string output = Path.Combine(data.Directory, "out");
        var (exit, stdout, _) = CliRun.Run("train", "--data", data.Directory, "--vocab", data.VocabPath, "--out", output,
            "--num-epochs", "3", "--batch-size", "20", "--embed-size", "16", "--word-dim", "8", "--learning-rate", "0.002");
        Assert.Equal(0, exit);
        Assert.Equal(3, stdout.Split('\n').Count(l => l.StartsWith("epoch", StringComparison.Ordinal)));
        string json = Path.Combine(data.Directory, "metrics.json"), sims = Path.Combine(data.Directory, "sims.npy");
        var (evalExit, evalOut, _) = CliRun.Run("eval", "--checkpoint", Path.Combine(output, "model_best.safetensors"), "--data", data.Directory,
            "--split", "test", "--json", json, "--sims-out", sims);
        Assert.Equal(0, evalExit);
        Assert.Contains("rsum", evalOut);
        var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.True(doc.GetProperty("i2t").GetProperty("r10").GetDouble() >= 0);
        Assert.Equal(new[] { 6, 30 }, CrossModal.Tensors.IO.Npy.ReadHeader(sims).Shape);
    }
}
