using CrossModal.Models;
using CrossModal.Models.Objectives;
using CrossModal.Models.Vse;
using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Training.Tests;

/// <summary>
/// A checkpoint write that fails mid-run (a full disk, a folder remounted read-only) stops training with one
/// message that names the file, says the previous checkpoint is unchanged and which iteration it holds; that
/// checkpoint is intact, and resuming from it once the disk is usable again ends exactly where an uninterrupted run
/// ends. The file systems are real: a small tmpfs filled up or remounted read-only.
/// </summary>
public sealed class WriteFailureTests
{
    // 8 batches per epoch, 2 epochs; periodic checkpoints at iterations 3 and 6, epoch ends at 8 and 16.
    private static TrainOptions Options(string data, string output) => new()
    {
        DataPath = data, OutputPath = output, Seed = 5,
        Recipe = new TrainingRecipe { BatchSize = 16, NumEpochs = 2, MaxViolation = true },
        CheckpointSteps = 3, CheckpointMinutes = 0,
    };

    private static readonly ModelConfig Config = new VseConfig { EmbedSize = 8, WordDim = 4 };

    [Theory]
    [InlineData("full", "No space left on device")]
    [InlineData("read-only", "Read-only file system")]
    public void Should_StopWithOneMessage_KeepThePreviousCheckpoint_AndResumeExactly(string failure, string reason)
    {
        using var data = new TinyPrecomp();
        using var disk = new TmpfsFolder(kilobytes: 1024);
        var vocab = Vocabulary.Load(data.VocabPath);
        var reference = Options(data.Directory, Path.Combine(data.Directory, "reference"));
        using (var trainer = Trainer.Create(reference, Config, vocab)) trainer.Run(cancellationToken: TestContext.Current.CancellationToken);

        // After iteration 3's checkpoint the disk fails; the next write is iteration 6's checkpoint.
        string output = Path.Combine(disk.Directory, "run");
        string checkpoint = Path.Combine(output, Trainer.CheckpointName);
        string? filler = null;
        var options = Options(data.Directory, output);
        IOException e;
        using (var trainer = Trainer.Create(options, Config, vocab))
        {
            var progress = new Inline<TrainProgress>(p =>
            {
                if (p.Step != 4) return;
                if (failure == "full") filler = disk.Fill();
                else disk.SetReadOnly(true);
            });
            e = Assert.Throws<IOException>(() => trainer.Run(progress, TestContext.Current.CancellationToken));
        }
        Assert.StartsWith($"{checkpoint}: could not be written (", e.Message);
        Assert.Contains(reason, e.Message);
        Assert.Contains("the previous file is unchanged. Training stopped after iteration 6;", e.Message);
        Assert.EndsWith($"{checkpoint} holds the run up to iteration 3: free some space or make the folder writable, then continue with --resume {checkpoint}.", e.Message);

        if (filler is not null) File.Delete(filler);
        else disk.SetReadOnly(false);
        Assert.Equal(3, TrainState.FromJson(Safetensors.Read(checkpoint).Metadata["train_state"], checkpoint).Step);
        Assert.Empty(Directory.GetFiles(output, ".*.tmp")); // the failed write removed its temporary file
        using (var resumed = Trainer.Resume(checkpoint))
            Assert.False(resumed.Run(cancellationToken: TestContext.Current.CancellationToken).Interrupted);
        RunComparison.AssertSameRun(reference.OutputPath, output);
    }

    [Fact]
    public void Should_StopBeforeTraining_WhenTheOutputFolderIsReadOnly()
    {
        using var data = new TinyPrecomp();
        using var disk = new TmpfsFolder(kilobytes: 256);
        Directory.CreateDirectory(Path.Combine(disk.Directory, "run"));
        disk.SetReadOnly(true);
        try
        {
            var options = Options(data.Directory, Path.Combine(disk.Directory, "run"));
            using var trainer = Trainer.Create(options, Config, Vocabulary.Load(data.VocabPath));
            var e = Assert.Throws<IOException>(() => trainer.Run(cancellationToken: TestContext.Current.CancellationToken));
            Assert.StartsWith($"{Path.Combine(options.OutputPath, Trainer.MetricsName)}: could not be written (", e.Message);
            Assert.Contains("Read-only file system", e.Message);
            Assert.EndsWith("Training stopped after iteration 0; no checkpoint has been written for this run yet.", e.Message);
        }
        finally { disk.SetReadOnly(false); }
    }

    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
