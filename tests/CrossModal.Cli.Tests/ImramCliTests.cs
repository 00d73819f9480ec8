using CrossModal.Tests;

namespace CrossModal.Cli.Tests;

/// <summary>
/// IMRAM through `crossmodal`: an original IMRAM checkpoint evaluates as it is and after import, and bad input (a
/// vocabulary or feature size that does not fit the checkpoint, --iteration-step 0, an unknown --model-mode) gets
/// one clear error line and exit code 1 (2 for a value outside an option's choices, a usage error).
/// </summary>
[Collection("Console")]
public class ImramCliTests
{
    private static string Fixture(string name) => TestData.Fixture("checkpoints", name, $"{name}.zip.pth.tar");

    [Fact]
    public void Should_EvaluateAnOriginalImramCheckpointAsItIsAndAfterImport()
    {
        string vocab = TestData.Path("vocab", "f8k_precomp_vocab.json");
        string data = TestData.Path("f8k-1k-precomp");
        string imported = Path.Combine(Path.GetTempPath(), $"imram-{Guid.NewGuid():N}.safetensors");
        try
        {
            var direct = CliRun.Run("eval", "--checkpoint", Fixture("imram_full_k3"), "--data", data, "--vocab", vocab, "--threads", "1");
            Assert.True(direct.Exit == 0, direct.Err);
            var import = CliRun.Run("import", "--checkpoint", Fixture("imram_full_k3"), "--out", imported, "--vocab", vocab);
            Assert.True(import.Exit == 0, import.Err);
            Assert.Contains("imram", import.Out);
            var after = CliRun.Run("eval", "--checkpoint", imported, "--data", data, "--threads", "1");
            Assert.True(after.Exit == 0, after.Err);
            string Metrics(string output) => output.Split('\n').First(l => l.Contains("rsum"));
            Assert.Equal(Metrics(direct.Out), Metrics(after.Out));
        }
        finally
        {
            File.Delete(imported);
        }
    }

    [Fact]
    public void Should_ExitWith1_WhenTheVocabularyDoesNotFitTheImramCheckpoint()
    {
        var (exit, _, err) = CliRun.Run("eval", "--checkpoint", Fixture("imram_text_k1"), "--data", TestData.Path("f8k-1k-precomp"),
            "--vocab", TestData.Path("vocab", "f30k_precomp_vocab.json"));
        Assert.Equal(1, exit);
        Assert.Contains("imram_text_k1.zip.pth.tar", err);
        Assert.Contains("3159 rows", err);
        Assert.Contains("8481 words", err);
        Assert.Single(err.Trim().Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
    }

    [Fact]
    public void Should_ExitWith1_WhenTheFeaturesDoNotFitTheImramCheckpoint()
    {
        // The checkpoint was trained on 512-wide region features; a folder of 8-wide regions must be refused, not scored.
        using var data = new TinyPrecomp(regions: 4, dim: 8);
        var (exit, _, err) = CliRun.Run("eval", "--checkpoint", Fixture("imram_text_k1"), "--data", data.Directory,
            "--vocab", TestData.Path("vocab", "f8k_precomp_vocab.json"));
        Assert.Equal(1, exit);
        var errors = err.Trim().Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Contains("test_ims.npy: image features are 8 wide, but the model", errors[0]);
        Assert.Contains("imram_text_k1.zip.pth.tar was built for img_dim 512", errors[0]);
    }

    [Fact]
    public void Should_ExitWith1_WhenTheIterationStepIsZero()
    {
        using var data = new TinyPrecomp(regions: 4);
        var (exit, _, err) = CliRun.Run("train", "--model", "imram", "--iteration-step", "0", "--data", data.Directory, "--vocab", data.VocabPath,
            "--out", Path.Combine(data.Directory, "out"));
        Assert.Equal(1, exit);
        Assert.Contains("iteration_step is 0; IMRAM needs at least 1 matching step", err);
        Assert.Single(err.Trim().Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
    }

    [Fact]
    public void Should_ExitWith2AndListTheModes_WhenTheModeIsUnknown()
    {
        // A value outside an option's choices is a usage error (exit 2, as for every enum option).
        using var data = new TinyPrecomp(regions: 4);
        var (exit, _, err) = CliRun.Run("train", "--model", "imram", "--model-mode", "vse", "--data", data.Directory, "--vocab", data.VocabPath,
            "--out", Path.Combine(data.Directory, "out"));
        Assert.Equal(2, exit);
        Assert.Contains("vse", err);
        Assert.Contains("full_IMRAM", err);
        Assert.Contains("text_IMRAM", err);
        Assert.Contains("image_IMRAM", err);
    }

    [Fact]
    public void Should_TrainAndResumeATinyFullImram()
    {
        using var data = new TinyPrecomp(regions: 4);
        string output = Path.Combine(data.Directory, "out");
        var (exit, _, err) = CliRun.Run("train", "--model", "imram", "--iteration-step", "2", "--embed-size", "8", "--word-dim", "6",
            "--data", data.Directory, "--vocab", data.VocabPath, "--out", output, "--num-epochs", "1", "--batch-size", "8", "--threads", "1");
        Assert.True(exit == 0, err);
        Assert.True(File.Exists(Path.Combine(output, "model_best.safetensors")) || Directory.EnumerateFiles(output, "*.safetensors").Any());
    }
}
