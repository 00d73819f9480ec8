using CrossModal.Tests;

namespace CrossModal.Cli.Tests;

/// <summary>
/// `crossmodal import` and `crossmodal eval` on original PyTorch checkpoints (tests/fixtures/checkpoints, written by
/// tools/reference/checkpoint_fixtures.py): the .pth.tar evaluates as it is, and its import evaluates identically.
/// </summary>
[Collection("Console")]
public class ImportCommandTests
{
    private static string Fixture(string name, string format) => TestData.Fixture("checkpoints", name, $"{name}.{format}.pth.tar");

    [Fact]
    public void Should_EvaluateAPyTorchCheckpointAsItIsAndAfterImport()
    {
        string vocab = TestData.Path("vocab", "f8k_precomp_vocab.json");
        string data = TestData.Path("f8k-1k-precomp");
        string imported = Path.Combine(Path.GetTempPath(), $"import-{Guid.NewGuid():N}.safetensors");
        try
        {
            var direct = CliRun.Run("eval", "--checkpoint", Fixture("scan_i2t_mean", "legacy"), "--data", data, "--vocab", vocab, "--threads", "1");
            Assert.Equal(0, direct.Exit);
            var import = CliRun.Run("import", "--checkpoint", Fixture("scan_i2t_mean", "legacy"), "--out", imported, "--vocab", vocab);
            Assert.Equal(0, import.Exit);
            Assert.Contains("(legacy, scan, 2 image + 9 text tensors, epoch 9)", import.Out); // manifest.json: epoch 9
            var after = CliRun.Run("eval", "--checkpoint", imported, "--data", data, "--threads", "1");
            Assert.Equal(0, after.Exit);
            string Metrics(string output) => output.Split('\n').First(l => l.Contains("rsum"));
            Assert.Equal(Metrics(direct.Out), Metrics(after.Out));
        }
        finally
        {
            File.Delete(imported);
        }
    }

    [Fact]
    public void Should_ExitWith1AndNameTheGlobal_WhenACheckpointPicklesAModule()
    {
        string path = TestData.Fixture("checkpoints", "refused", "whole_module.zip.pth");
        var (exit, _, err) = CliRun.Run("import", "--checkpoint", path, "--out", Path.Combine(Path.GetTempPath(), "never.safetensors"));
        Assert.Equal(1, exit);
        Assert.StartsWith($"error: {path}: ", err);
        Assert.Contains("global 'torch.nn.modules.linear.Linear' is not allowed", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Should_ExitWith1_WhenTheVocabularyDoesNotFitTheCheckpoint()
    {
        var (exit, _, err) = CliRun.Run("import", "--checkpoint", Fixture("vsepp", "zip"), "--out", Path.Combine(Path.GetTempPath(), "never.safetensors"),
            "--vocab", TestData.Path("vocab", "f30k_precomp_vocab.json"));
        Assert.Equal(1, exit);
        Assert.Contains("8481 words, but the checkpoint's word embedding has 3159 rows", err);
    }
}
