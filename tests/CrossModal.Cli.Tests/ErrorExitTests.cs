using System.Text.Json.Nodes;
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
    public void Should_ExitWith1AndOneLine_WhenTheOutputFolderIsReadOnly()
    {
        using var data = new TinyPrecomp();
        using var disk = new TmpfsFolder(kilobytes: 256);
        disk.SetReadOnly(true);
        try
        {
            var (exit, _, err) = CliRun.Run("train", "--data", data.Directory, "--vocab", data.VocabPath, "--out", disk.Directory, "--num-epochs", "1");
            Assert.Equal(1, exit);
            Assert.Single(err.Trim().Split('\n'));
            Assert.StartsWith($"error: {Path.Combine(disk.Directory, "metrics.jsonl")}: could not be written (", err);
            Assert.Contains("Read-only file system", err);
            Assert.Contains("Training stopped after iteration 0; no checkpoint has been written for this run yet.", err);
        }
        finally { disk.SetReadOnly(false); }
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

        // eval of the best model on the dev split reproduces the trainer's validation of that epoch.
        var best = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).Last(n => (bool)n["best"]!);
        string devJson = Path.Combine(data.Directory, "dev.json");
        Assert.Equal(0, CliRun.Run("eval", "--checkpoint", Path.Combine(output, "model_best.safetensors"), "--data", data.Directory, "--split", "dev", "--json", devJson).Exit);
        Assert.Equal(best["rsum"]!.GetValue<double>(), JsonNode.Parse(File.ReadAllText(devJson))!["rsum"]!.GetValue<double>(), 9);

        // On test: the JSON metrics are those of the written similarity matrix, ranked independently here.
        string json = Path.Combine(data.Directory, "metrics.json"), sims = Path.Combine(data.Directory, "sims.npy");
        var (evalExit, evalOut, _) = CliRun.Run("eval", "--checkpoint", Path.Combine(output, "model_best.safetensors"), "--data", data.Directory,
            "--split", "test", "--json", json, "--sims-out", sims);
        Assert.Equal(0, evalExit);
        Assert.Contains("rsum", evalOut);
        var matrix = CrossModal.Tensors.IO.Npy.ReadFloat32(sims);
        Assert.Equal(new[] { 6, 30 }, matrix.Shape);
        var doc = JsonNode.Parse(File.ReadAllText(json))!;
        var s = matrix.ToArray();
        // i2t: an image's rank is its best caption's position in its row; t2i: a caption's image's position in its column.
        int[] i2t = Enumerable.Range(0, 6).Select(i => Enumerable.Range(5 * i, 5).Min(c => Enumerable.Range(0, 30).Count(k => s[i * 30 + k] > s[i * 30 + c]))).ToArray();
        int[] t2i = Enumerable.Range(0, 30).Select(c => Enumerable.Range(0, 6).Count(k => s[k * 30 + c] > s[c / 5 * 30 + c])).ToArray();
        Assert.Equal(100.0 * i2t.Count(r => r < 5) / 6, doc["i2t"]!["r5"]!.GetValue<double>(), 9);
        Assert.Equal(100.0 * t2i.Count(r => r < 1) / 30, doc["t2i"]!["r1"]!.GetValue<double>(), 9);
    }

    [Fact]
    public void Should_ExitWith1_WhenAnOptionIsNotTheModels()
    {
        using var data = new TinyPrecomp();
        var (exit, _, err) = CliRun.Run("train", "--model", "vsepp", "--cross-attn", "i2t", "--data", data.Directory, "--vocab", data.VocabPath, "--out", Path.Combine(data.Directory, "out"));
        Assert.Equal(1, exit);
        Assert.StartsWith("error: --cross-attn is not an option of model 'vsepp' (its options: --embed-size", err);
    }

    [Fact]
    public void Should_ExitWith1_WhenTheGradientBucketCannotHoldAFloat()
    {
        var (exit, _, err) = CliRun.Run("train", "--bucket-mb", "0", "--data", "d", "--vocab", "v", "--out", "o");
        Assert.Equal(1, exit);
        Assert.Equal("error: --bucket-mb must hold at least one float (4 bytes), got 0.", err.Trim());
    }

    [Fact]
    public void Should_ExitWith1_WhenThePresetIsAnotherModels()
    {
        var (exit, _, err) = CliRun.Run("train", "--model", "vsepp", "--preset", "scan-t2i-avg", "--data", "d", "--vocab", "v", "--out", "o");
        Assert.Equal(1, exit);
        Assert.Contains("--preset scan-t2i-avg is a scan setting, but --model says vsepp", err);
    }

    [Fact]
    public void Should_PrintOneJsonObjectPerEpoch_WithJson()
    {
        using var data = new TinyPrecomp();
        string output = Path.Combine(data.Directory, "out");
        var (exit, stdout, _) = CliRun.Run("train", "--json", "--data", data.Directory, "--vocab", data.VocabPath, "--out", output,
            "--num-epochs", "2", "--batch-size", "20", "--embed-size", "8", "--word-dim", "4");
        Assert.Equal(0, exit);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Equal(File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!["rsum"]!.GetValue<double>()),
            lines.Take(2).Select(l => l["rsum"]!.GetValue<double>()));
        Assert.Equal([1, 2], lines.Take(2).Select(l => l["epoch"]!.GetValue<int>()));
        Assert.True(lines[2]["done"]!.GetValue<bool>());
        Assert.Equal(Path.Combine(output, "model_best.safetensors"), lines[2]["best_path"]!.GetValue<string>());
    }

    [Fact]
    public void Should_ListEveryFamilyAndPreset_WithModelsJson()
    {
        var (exit, stdout, _) = CliRun.Run("models", "--json");
        Assert.Equal(0, exit);
        var families = JsonNode.Parse(stdout)!.AsArray();
        Assert.Equal(CrossModal.Models.ModelFamilies.All.Select(f => f.Name), families.Select(f => f!["model"]!.GetValue<string>()));
        var scan = families.Single(f => f!["model"]!.GetValue<string>() == "scan")!;
        var avg = scan["presets"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "scan-t2i-avg")!;
        Assert.Equal("Mean", avg["config"]!["agg_func"]!.GetValue<string>());
        Assert.Equal(9, avg["config"]!["lambda_softmax"]!.GetValue<double>());
    }
}
