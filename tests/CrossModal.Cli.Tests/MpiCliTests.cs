using System.Diagnostics;
using System.Text.Json.Nodes;
using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Text;
using CrossModal.Training;

namespace CrossModal.Cli.Tests;

/// <summary>
/// `crossmodal` under a real `mpirun -np 2` (Open MPI through P/Invoke) on the f8k data, against the same command in
/// one process: training follows the same loss curve to the same weights within the summation-order bound of
/// <see cref="SummationOrder"/>; evaluation prints exactly the same metrics and matrix; an index build writes the same
/// bytes; a bad data folder on one rank ends the job with that rank's message, written once.
/// </summary>
public class MpiCliTests
{
    private static string Cli => Path.Combine(AppContext.BaseDirectory, "crossmodal.dll");

    private static string Vocab => TestData.Path("vocab", "f8k_precomp_vocab.json");

    private static async Task<(int Exit, string Out, string Err)> OneProcess(params string[] args)
    {
        var psi = new ProcessStartInfo(MpiRun.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (p.ExitCode, await stdout, await stderr);
    }

    private static Task<(int Exit, string Out, string Err)> TwoRanks(params string[] args) => MpiRun.Run(2, Cli, args, TimeSpan.FromMinutes(4));

    [Theory]
    [InlineData("vsepp")]
    [InlineData("scan")]
    [InlineData("vsrn")]
    public async Task Should_TrainLikeOneProcess_UnderMpirun(string model)
    {
        MpiRun.Require();
        using var temp = new TempFolder();
        bool regions = model != "vsepp";
        string data = TestData.Path(regions ? "f8k-1k-precomp" : "f8k-1k-precomp-global");
        // Small settings: batches of 128 (the paper's), 2 x 2 steps (SCAN, VSRN 1 x 2), a loss record after every step.
        // VSRN: its BatchNorms synchronised over the ranks, its caption dropout masks drawn per global batch. Gradient
        // buckets of 4 KB, so that these small models have several and MPI_Iallreduce runs during the backward
        // (DataParallelStepTests shows which buckets start early; one process ignores the option).
        string[] Args(string output) => new[]
        {
            "train", "--model", model, "--data", data, "--vocab", Vocab, "--out", output, "--json", "--threads", "1", "--bucket-mb", "0.004",
            "--embed-size", regions ? "32" : "128", "--word-dim", regions ? "16" : "64", "--max-batches", "2", "--num-epochs", regions ? "1" : "2", "--val-step", "1",
        }.Concat(model == "vsrn" ? new[] { "--dim-hidden", "16", "--dim-word", "16" } : []).ToArray();
        var one = await OneProcess(Args(temp.File("one")));
        Assert.True(one.Exit == 0, one.Err);
        var two = await TwoRanks(Args(temp.File("two")));
        Assert.True(two.Exit == 0, $"{two.Out}\n{two.Err}");
        Assert.Contains("x 2 ranks", two.Err);

        var a = Records(temp.File("one"));
        var b = Records(temp.File("two"));
        Assert.Equal(a.Count, b.Count);
        using var train = PrecompDataset.Open(data, "train", Vocabulary.Load(Vocab), cancellationToken: TestContext.Current.CancellationToken);
        int longest = Enumerable.Range(0, train.CaptionCount).Max(train.CaptionLength);
        double tolerance = SummationOrder.Training(SummationOrder.Terms(128, longest, train.Regions));
        for (int i = 0; i < a.Count; i++)
        {
            double la = (double)a[i]["loss"]!, lb = (double)b[i]["loss"]!;
            Assert.True(Math.Abs(lb - la) <= tolerance * la, $"record {i + 1}: loss {lb:R} on 2 ranks, {la:R} in one process (tolerance {tolerance:E2} relative)");
        }
        var wa = Safetensors.Read(Path.Combine(temp.File("one"), Trainer.CheckpointName));
        var wb = Safetensors.Read(Path.Combine(temp.File("two"), Trainer.CheckpointName));
        int steps = a.Count;
        // VSRN's Rs_GCN W.0 biases feed training-mode BatchNorms: their gradient is 0 in exact arithmetic and Adam turns
        // the rounding noise into steps of about lr, which the BatchNorms' running means average (see
        // DataParallelTrainingTests); no summation-order bound applies to them.
        static bool Wanders(string name) => name.EndsWith(".W.0.bias", StringComparison.Ordinal) || name.EndsWith(".W.1.running_mean", StringComparison.Ordinal);
        foreach (var name in wa.Order.Where(n => !n.StartsWith("optimizer.", StringComparison.Ordinal) && !Wanders(n)))
        {
            var x = wa.Tensors[name].Data;
            double d = SummationOrder.Distance(wb.Tensors[name].Data, x) / (2e-4 * steps * Math.Sqrt(x.Length));
            Assert.True(d <= tolerance, $"{name}: 2 ranks end {d:E2} of Adam's distance away from one process (tolerance {tolerance:E2})");
        }
    }

    private static List<JsonNode> Records(string output) =>
        File.ReadAllLines(Path.Combine(output, Trainer.MetricsName)).Select(l => JsonNode.Parse(l)!).ToList();

    [Fact]
    public async Task Should_EvaluateExactlyLikeOneProcess_UnderMpirun()
    {
        MpiRun.Require();
        using var temp = new TempFolder();
        var vocab = Vocabulary.Load(Vocab);
        // An untrained ensemble (the scores only need to vary), SCAN and VSE++, on the first 300 images of the f8k
        // training split (3 shards of 128 images: rank 0 scores two, rank 1 the last 44).
        string subset = Subset(temp, 300);
        string scan = UntrainedScan(temp, vocab);
        var vse = new VseConfig { ImgDim = 512, EmbedSize = 16, WordDim = 8, VocabSize = vocab.Count };
        ModelFile.Save(temp.File("vse.safetensors"), vse.Family.Create(vse, new Rng(2)), vocab.ToJson());
        string[] Args(string tag) => new[]
        {
            "eval", "--checkpoint", scan, "--checkpoint", temp.File("vse.safetensors"), "--data", subset,
            "--split", "test", "--threads", "1", "--json", temp.File(tag + ".json"), "--sims-out", temp.File(tag + ".npy"),
        };
        var one = await OneProcess(Args("one"));
        Assert.True(one.Exit == 0, one.Err);
        var two = await TwoRanks(Args("two"));
        Assert.True(two.Exit == 0, $"{two.Out}\n{two.Err}");
        // (mpirun gives the ranks a terminal, and .NET then switches the keypad mode: drop those escape sequences.)
        static string Metrics(string output) => System.Text.RegularExpressions.Regex.Replace(output, @"\x1b(\[[0-9;?]*[A-Za-z]|[=>])", "").Split('\n')[0];
        Assert.StartsWith("i2t R@1", Metrics(one.Out));
        Assert.Equal(Metrics(one.Out), Metrics(two.Out));
        Assert.Contains("2 ranks", two.Out);
        Assert.Equal(File.ReadAllText(temp.File("one.json")), File.ReadAllText(temp.File("two.json")));
        Assert.Equal(File.ReadAllBytes(temp.File("one.npy")), File.ReadAllBytes(temp.File("two.npy")));
    }

    [Fact]
    public async Task Should_BuildTheOneProcessIndex_UnderMpirun()
    {
        MpiRun.Require();
        using var temp = new TempFolder();
        var vocab = Vocabulary.Load(Vocab);
        // An untrained SCAN model (cross-attention: the index keeps every image's regions and every caption's words)
        // on the first 300 images of the f8k training split: 3 encoding batches of 128 images (rank 0 encodes two,
        // rank 1 one), 12 of captions.
        string subset = Subset(temp, 300);
        string scan = UntrainedScan(temp, vocab);
        string[] Args(string data, string output) => new[]
        {
            "index", "build", "--checkpoint", scan, "--data", data, "--split", "test", "--captions", "--threads", "1", "--out", output,
        };
        var one = await OneProcess(Args(subset, temp.File("one.index")));
        Assert.True(one.Exit == 0, one.Err);
        var two = await TwoRanks(Args(subset, temp.File("two.index")));
        Assert.True(two.Exit == 0, $"{two.Out}\n{two.Err}");
        Assert.Contains("encoded by 2 ranks", two.Err);
        Assert.Equal(File.ReadAllBytes(temp.File("one.index")), File.ReadAllBytes(temp.File("two.index")));

        // Rank 1 without the data: the job ends with its message, once, and the index already there is kept.
        var before = File.ReadAllBytes(temp.File("two.index"));
        string missing = temp.File("not-copied-here");
        var (exit, _, error) = await MpiRun.RunEach(new (int, IEnumerable<string>)[] { (1, Args(subset, temp.File("two.index"))), (1, Args(missing, temp.File("two.index"))) },
            Cli, TimeSpan.FromMinutes(3));
        Assert.Equal(CliApp.DataError, exit);
        var lines = error.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.Single(lines);
        Assert.StartsWith("error: rank 1: ", lines[0]);
        Assert.Contains(missing, lines[0]);
        Assert.Equal(before, File.ReadAllBytes(temp.File("two.index")));
        Assert.Empty(Directory.GetFiles(temp.Path, "*.tmp"));
    }

    /// <summary>An untrained SCAN checkpoint (embed 16, seed 1) for f8k's 512-d features and <paramref name="vocab"/>: scan.safetensors in <paramref name="temp"/>.</summary>
    private static string UntrainedScan(TempFolder temp, Vocabulary vocab)
    {
        var config = new ScanConfig { ImgDim = 512, EmbedSize = 16, WordDim = 8, VocabSize = vocab.Count };
        ModelFile.Save(temp.File("scan.safetensors"), config.Family.Create(config, new Rng(1)), vocab.ToJson());
        return temp.File("scan.safetensors");
    }

    /// <summary>A test split of the first <paramref name="images"/> images (and their captions) of the f8k training split.</summary>
    private static string Subset(TempFolder temp, int images)
    {
        string subset = temp.File($"f8k-{images}");
        Directory.CreateDirectory(subset);
        var features = Npy.ReadFloat32(Path.Combine(TestData.Path("f8k-1k-precomp"), "train_ims.npy"));
        int imageLength = features.Length / features.Dim(0);
        Npy.Write(Path.Combine(subset, "test_ims.npy"), features.Data[..(images * imageLength)].ToArray(), new[] { images, features.Dim(1), features.Dim(2) });
        File.WriteAllLines(Path.Combine(subset, "test_caps.txt"), File.ReadLines(Path.Combine(TestData.Path("f8k-1k-precomp"), "train_caps.txt")).Take(5 * images));
        return subset;
    }

    [Fact]
    public async Task Should_EndTheJobWithTheFailingRanksMessage_WhenOneRanksDataIsMissing()
    {
        MpiRun.Require();
        using var temp = new TempFolder();
        string missing = temp.File("not-copied-here");
        string[] Args(string data) => new[] { "train", "--data", data, "--vocab", Vocab, "--out", temp.File("out"), "--threads", "1", "--max-batches", "1", "--num-epochs", "1" };
        // Rank 0 has the data, rank 1 does not (a machine the data was not copied to).
        var (exit, output, error) = await MpiRun.RunEach(new (int, IEnumerable<string>)[] { (1, Args(TestData.Path("f8k-1k-precomp-global"))), (1, Args(missing)) },
            Cli, TimeSpan.FromMinutes(3));
        Assert.Equal(CliApp.DataError, exit);
        var lines = error.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.Single(lines);
        Assert.StartsWith($"error: rank 1: ", lines[0]);
        Assert.Contains(missing, lines[0]);
        Assert.False(Directory.Exists(temp.File("out")));
        Assert.DoesNotContain("done", output);
    }
}
