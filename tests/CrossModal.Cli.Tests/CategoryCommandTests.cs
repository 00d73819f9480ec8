using System.Text.Json.Nodes;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Cli.Tests;

/// <summary>
/// `crossmodal train --model masln` and `crossmodal eval` on the Wikipedia labelled pairs end to end (one extendable
/// split, a few epochs), and the category-level bad inputs: one line on stderr, exit 1.
/// </summary>
[Collection("Console")]
public class CategoryCommandTests
{
    private static string Wikipedia => TestData.Path("wikipedia");

    private static string ClassEmbeddings(TempFolder folder, int rows)
    {
        var table = new float[rows * 8];
        new Rng(2).Uniform(table, -1f, 1f);
        string path = folder.File($"classes{rows}.npy");
        Npy.Write(path, table, [rows, 8]);
        return path;
    }

    [Fact]
    public void Should_TrainOnSeenClasses_AndEvaluateTheUnseenOnes()
    {
        using var folder = new TempFolder();
        string run = folder.File("run");
        var (exit, output, err) = CliRun.Run("train", "--model", "masln", "--data", Wikipedia, "--out", run, "--unseen", "biology,history,media,royalty,warfare",
            "--class-embeddings", ClassEmbeddings(folder, 10), "--num-epochs", "3", "--threads", "1");
        Assert.True(exit == 0, err);
        Assert.Contains("training masln on unseen: biology, history, media, royalty, warfare", output);
        Assert.Contains("done: best mAP 0.", output);
        string json = folder.File("eval.json");
        (exit, output, err) = CliRun.Run("eval", "--checkpoint", run, "--json", json, "--pr-svg", folder.File("pr.svg"), "--threads", "1");
        Assert.True(exit == 0, err);
        Assert.Contains("unseen       mAP i2t 0.", output);
        Assert.Contains("generalised  mAP i2t 0.", output);
        var o = JsonNode.Parse(File.ReadAllText(json))!;
        var r = o["runs"]![0]!;
        Assert.Equal("extendable", (string)r["protocol"]!);
        Assert.Equal(5, r["unseen"]!.AsArray().Count);
        double map = (double)r["unseen_metrics"]!["i2t"]!["map"]!;
        Assert.InRange(map, 0.0, 1.0);
        Assert.Equal(map, (double)o["summary"]!["unseen"]!["map_i2t"]!, 12);
        Assert.Contains("<svg", File.ReadAllText(folder.File("pr.svg")));
    }

    [Fact]
    public void Should_ExitWith1AndOneLine_WhenASplitNamesAnUnknownClass()
    {
        using var folder = new TempFolder();
        var (exit, _, err) = CliRun.Run("train", "--model", "masln", "--data", Wikipedia, "--out", folder.File("run"), "--unseen", "art,astronomy");
        Assert.Equal(1, exit);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("class 'astronomy' does not exist in the dataset (classes: art, biology,", err);
    }

    [Fact]
    public void Should_ExitWith1AndNameTheFile_WhenClassEmbeddingsHaveTheWrongRowCount()
    {
        using var folder = new TempFolder();
        string bad = ClassEmbeddings(folder, 7);
        var (exit, _, err) = CliRun.Run("train", "--model", "masln", "--data", Wikipedia, "--out", folder.File("run"), "--class-embeddings", bad);
        Assert.Equal(1, exit);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains($"{bad}: class embeddings of shape (7, 8), but", err);
        Assert.Contains("expected 10 rows", err);
    }

    [Fact]
    public void Should_RejectCategoryOptions_ForInstanceLevelModels()
    {
        using var folder = new TempFolder();
        var (exit, _, err) = CliRun.Run("train", "--model", "vsepp", "--data", folder.Path, "--vocab", folder.File("v.json"), "--out", folder.File("run"), "--unseen", "art");
        Assert.Equal(1, exit);
        Assert.Contains("--unseen applies to category-level models (masln, acmr), not to 'vsepp'", err);
    }
}
