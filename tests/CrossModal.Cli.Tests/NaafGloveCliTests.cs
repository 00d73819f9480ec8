using System.Text;
using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Training;

namespace CrossModal.Cli.Tests;

/// <summary>
/// NAAF's GloVe text encoder through `crossmodal`: training starts from the user's table (--glove-path: the file as
/// NAAF distributes it, a torch.save'd tensor, or a .npy) with NAAF's GloVe vocabulary JSON (&lt;unk&gt; 1,
/// &lt;start&gt; 2, &lt;end&gt; 3) as --vocab; the trained model evaluates with the vocabulary it carries; an original
/// GloVe checkpoint evaluates with its GloVe vocabulary. The table and vocabulary are the generated fixtures in
/// NAAF's formats (tools/reference/naaf_fixtures.py make_glove). Bad tables: one error line naming the file, exit 1.
/// </summary>
[Collection("Console")]
public class NaafGloveCliTests
{
    private static string Glove(string file) => TestData.Fixture("naaf", "glove", file);

    private static readonly string[] Captions =
    [
        "a man is running on the grass .", "a dog is on the grass", "two dog is running", "the man is on the grass .", "a dog .",
    ];

    /// <summary>TinyPrecomp's features with captions in the fixture vocabulary's words ("children", "play" and &lt;unk&gt; never occur).</summary>
    private static TinyPrecomp Data()
    {
        var data = new TinyPrecomp(trainImages: 20, devImages: 4, testImages: 4, regions: 3);
        foreach (var split in new[] { "train", "dev", "test" })
        {
            string path = Path.Combine(data.Directory, $"{split}_caps.txt");
            int lines = File.ReadAllLines(path).Length;
            File.WriteAllText(path, string.Concat(Enumerable.Range(0, lines).Select(i => Captions[i % Captions.Length] + "\n")), new UTF8Encoding(false));
        }
        return data;
    }

    private static string[] TrainArgs(TinyPrecomp data, string output, string table) =>
    [
        "train", "--model", "naaf", "--precomp-enc-text-type", "GloVe", "--glove-path", table, "--data", data.Directory,
        "--vocab", Glove("f30k_precomp.json"), "--out", output, "--num-epochs", "1", "--batch-size", "10", "--embed-size", "8",
        "--word-dim", "300", "--threads", "1",
    ];

    [Theory]
    [InlineData("glove_840B_f30k_precomp.json.pkl")]
    [InlineData("glove_840B_f30k_precomp.npy")]
    public void Should_TrainFromTheGloveTable_AndEncodeWithTheGloveVocabularyIds(string tableFile)
    {
        using var data = Data();
        string output = Path.Combine(data.Directory, "out");
        var train = CliRun.Run(TrainArgs(data, output, Glove(tableFile)));
        Assert.True(train.Exit == 0, train.Err);

        var table = Npy.ReadFloat32(Glove("glove_840B_f30k_precomp.npy"));
        var trained = Safetensors.Read(Path.Combine(output, Trainer.BestName)).Get("txt_enc.embed.glove.weight");
        Assert.Equal(table.ShapeSpan.ToArray(), trained.ShapeSpan.ToArray());
        float[] Row(CrossModal.Tensors.Tensor t, int id) => t.Data.Slice(id * 300, 300).ToArray();
        // Rows no caption uses get no gradient, so Adam leaves them exactly as loaded: <unk> (1), "children" (14), "play" (15).
        foreach (int id in new[] { 1, 14, 15 }) Assert.Equal(Row(table, id), Row(trained, id));
        // Every caption starts with <start>, which is id 2 in NAAF's layout (SCAN's ids would have trained row 1): its zero row moved.
        Assert.Contains(Row(trained, 2), v => v != 0f);
        Assert.All(Row(table, 2), v => Assert.Equal(0f, v));

        // The checkpoint carries the GloVe vocabulary, so eval needs no --vocab.
        var eval = CliRun.Run("eval", "--checkpoint", Path.Combine(output, Trainer.BestName), "--data", data.Directory, "--split", "test", "--threads", "1");
        Assert.True(eval.Exit == 0, eval.Err);
        Assert.Contains("rsum", eval.Out);
    }

    [Fact]
    public void Should_EvaluateTheOriginalGloveCheckpoint_WithNaafsGloveVocabulary()
    {
        string folder = TestData.Fixture("checkpoints", "naaf_glove");
        var (exit, stdout, err) = CliRun.Run("eval", "--checkpoint", Path.Combine(folder, "naaf_glove.zip.pth.tar"), "--data", TestData.Path("f8k-1k-precomp"),
            "--vocab", Path.Combine(folder, "f8k_precomp.json"), "--split", "dev", "--threads", "1");
        Assert.True(exit == 0, err);
        Assert.Contains("rsum", stdout);
    }

    [Theory]
    [InlineData("glove_rows_mismatch.json.pkl", "15 rows but the vocabulary has 16 words")]
    [InlineData("glove_int64.json.pkl", "holds int64 values")]
    [InlineData("glove_flat.json.pkl", "shape [300]")]
    public void Should_ExitWith1AndNameTheFile_WhenTheGloveTableDoesNotFit(string tableFile, string expected)
    {
        using var data = Data();
        var (exit, _, err) = CliRun.Run(TrainArgs(data, Path.Combine(data.Directory, "out"), Glove(tableFile)));
        Assert.Equal(1, exit);
        var line = Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        Assert.Contains(Glove(tableFile), line);
        Assert.Contains(expected, line);
    }

    [Fact]
    public void Should_ExitWith1_WhenGloveHasNoTable_OrATableIsGivenToTheBasicEncoder()
    {
        using var data = Data();
        var args = TrainArgs(data, Path.Combine(data.Directory, "out"), Glove("glove_840B_f30k_precomp.json.pkl")).ToList();
        int at = args.IndexOf("--glove-path");
        var (exit, _, err) = CliRun.Run([.. args.Take(at), .. args.Skip(at + 2)]);
        Assert.Equal(1, exit);
        Assert.Contains("--glove-path", Assert.Single(err.Trim().Split('\n')));

        args[args.IndexOf("GloVe")] = "basic";
        (exit, _, err) = CliRun.Run([.. args]);
        Assert.Equal(1, exit);
        Assert.Contains("glove_path", Assert.Single(err.Trim().Split('\n')));
    }
}
