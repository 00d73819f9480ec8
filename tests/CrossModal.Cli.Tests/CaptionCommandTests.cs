using CrossModal.Tests;

namespace CrossModal.Cli.Tests;

/// <summary>`crossmodal caption`: a VSRN trained here captions the test images; an original checkpoint is refused.</summary>
[Collection("Console")]
public class CaptionCommandTests
{
    [Fact]
    public void Should_CaptionTheTestImagesAndPrintBleu_ForAVsrnTrainedWithTheCaptionLoss()
    {
        using var data = new TinyPrecomp(trainImages: 30, regions: 3);
        string output = Path.Combine(data.Directory, "out");
        var train = CliRun.Run("train", "--model", "vsrn", "--data", data.Directory, "--vocab", data.VocabPath, "--out", output,
            "--num-epochs", "1", "--batch-size", "20", "--embed-size", "8", "--word-dim", "6", "--dim-hidden", "8", "--dim-word", "6",
            "--max-len", "10", "--val-step", "0");
        Assert.Equal(0, train.Exit);
        var (exit, stdout, _) = CliRun.Run("caption", "--checkpoint", Path.Combine(output, "model_best.safetensors"), "--data", data.Directory,
            "--split", "test", "--show", "2", "--threads", "1");
        Assert.Equal(0, exit);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Count(l => l.StartsWith("image ", StringComparison.Ordinal)));
        Assert.Equal(2, lines.Count(l => l.StartsWith("  reference: ", StringComparison.Ordinal)));
        Assert.Matches(@"^BLEU-4 \d+\.\d\d \(6 images, 30 reference captions, greedy decoding", lines[^1]);
    }

    [Fact]
    public void Should_ExitWith1_WhenTheModelHasNoCaptioningBranch()
    {
        string path = TestData.Fixture("checkpoints", "vsrn_coco", "vsrn_coco.zip.pth.tar");
        var (exit, _, err) = CliRun.Run("caption", "--checkpoint", path, "--data", TestData.Path("f8k-1k-precomp"),
            "--vocab", TestData.Path("vocab", "f8k_precomp_vocab.json"));
        Assert.Equal(1, exit);
        Assert.Equal($"error: {path}: this vsrn model has no captioning branch (original checkpoints do not save it; train one with crossmodal train).", err.Trim());
    }
}
