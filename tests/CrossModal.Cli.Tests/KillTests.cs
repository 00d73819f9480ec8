using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Cli.Tests;

/// <summary>
/// `crossmodal train` killed with SIGKILL at chosen points (inside checkpoint writes, just after one, between
/// checkpoints, inside the best model's write, and at an unsynchronised moment), then resumed with --resume, ends
/// bit-identical to an uninterrupted run: same final weights and optimizer state, same best model, same
/// metrics.jsonl apart from the seconds. The runs are tiny (SCAN, 3 regions, 2 epochs of 8 batches), with a
/// checkpoint every 3 iterations and a validation every 5.
/// </summary>
public sealed class KillTests(KillTests.Reference reference) : IClassFixture<KillTests.Reference>
{
    /// <summary>The data and the uninterrupted run every case compares with.</summary>
    public sealed class Reference : IDisposable
    {
        public Reference()
        {
            Data = new TinyPrecomp(regions: 3);
            var (exit, output) = CliChild.RunAsync(Args(Data, Path.Combine(Data.Directory, "reference"))).GetAwaiter().GetResult();
            Assert.True(exit == 0, output);
        }

        internal TinyPrecomp Data { get; }

        public string Output => Path.Combine(Data.Directory, "reference");

        public void Dispose() => Data.Dispose();
    }

    private static string[] Args(TinyPrecomp data, string output) =>
    [
        "train", "--model", "scan", "--data", data.Directory, "--vocab", data.VocabPath, "--out", output,
        "--embed-size", "12", "--word-dim", "6", "--batch-size", "16", "--num-epochs", "2", "--lr-update", "1", "--val-step", "5",
        "--seed", "42", "--threads", "1", "--checkpoint-steps", "3", "--checkpoint-minutes", "0",
    ];

    // Checkpoint writes: #1 iteration 3, #2 iteration 6, #3 iteration 8 (epoch end), #4 iteration 9, #5 12, #6 15,
    // #7 16 (end). Curve writes follow each metrics line: #1 iteration 5, #2 epoch 1, #3 iteration 10, ...
    [Theory]
    [InlineData("checkpoint.safetensors:2:1000", 3, true)]   // inside a mid-epoch checkpoint write: the old one stays
    [InlineData("checkpoint.safetensors:3:5000", 6, true)]   // inside the epoch-end write, after the epoch's metrics line
    [InlineData("checkpoint.safetensors:3:done", 8, false)]  // right after the epoch-end checkpoint is in place
    [InlineData("checkpoint.safetensors:4:done", 9, false)]  // right after a mid-epoch checkpoint is in place
    [InlineData("training_curve.svg:3:done", 9, false)]      // between checkpoints, after iteration 10's metrics line
    [InlineData("model_best.safetensors:1:500", 3, true)]    // inside the best model's first write
    public async Task Should_EndBitIdentical_WhenKilledAtThePointAndResumed(string halt, long onDisk, bool leftover)
    {
        string output = Path.Combine(reference.Data.Directory, "kill-" + halt.Replace(':', '-'));
        using (var child = CliChild.Start(halt, Args(reference.Data, output)))
            await child.KillAtHaltAsync();
        string checkpoint = Path.Combine(output, "checkpoint.safetensors");
        Assert.Equal(onDisk, SavedIteration(checkpoint)); // the checkpoint on disk is whole and holds that iteration
        Assert.Equal(leftover, Directory.GetFiles(output, ".*.tmp").Length > 0);

        await Resume(checkpoint);
        Assert.Empty(Directory.GetFiles(output, ".*.tmp")); // the resumed run removed the killed write's temporary file
        RunComparison.AssertSameRun(reference.Output, output);
    }

    [Fact]
    public async Task Should_EndBitIdentical_WhenKilledTwice()
    {
        string output = Path.Combine(reference.Data.Directory, "kill-twice");
        using (var child = CliChild.Start("checkpoint.safetensors:2:1000", Args(reference.Data, output)))
            await child.KillAtHaltAsync();
        string checkpoint = Path.Combine(output, "checkpoint.safetensors");
        // The resumed run (from iteration 3) writes iterations 6, 8 and 9: killed after the third.
        using (var child = CliChild.Start("checkpoint.safetensors:3:done", "train", "--resume", checkpoint, "--threads", "1"))
            await child.KillAtHaltAsync();
        Assert.Equal(9, SavedIteration(checkpoint));
        await Resume(checkpoint);
        RunComparison.AssertSameRun(reference.Output, output);
    }

    [Fact]
    public async Task Should_EndBitIdentical_WhenKilledAtAnUnsynchronisedMoment()
    {
        // No seam: SIGKILL as soon as the first checkpoint exists, wherever the run is then.
        string output = Path.Combine(reference.Data.Directory, "kill-anytime");
        string checkpoint = Path.Combine(output, "checkpoint.safetensors");
        using (var child = CliChild.Start(null, Args(reference.Data, output)))
        {
            while (!File.Exists(checkpoint) && !child.HasExited) await Task.Delay(5, TestContext.Current.CancellationToken);
            child.Kill();
        }
        await Resume(checkpoint);
        RunComparison.AssertSameRun(reference.Output, output);
    }

    /// <summary>Continues with the same thread count (results are exact for a given seed and thread count).</summary>
    private static async Task Resume(string checkpoint)
    {
        var (exit, output) = await CliChild.RunAsync("train", "--resume", checkpoint, "--threads", "1");
        Assert.True(exit == 0, output);
    }

    private static long SavedIteration(string checkpoint)
    {
        var file = Safetensors.Read(checkpoint);
        return System.Text.Json.JsonDocument.Parse(file.Metadata["train_state"]).RootElement.GetProperty("step").GetInt64();
    }
}
