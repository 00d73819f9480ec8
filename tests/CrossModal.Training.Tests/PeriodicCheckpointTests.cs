using CrossModal.Models;
using CrossModal.Models.Objectives;
using CrossModal.Models.Vse;
using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Text;
using CrossModal.Training.Tests.Support;

namespace CrossModal.Training.Tests;

/// <summary>
/// Checkpoints inside an epoch (--checkpoint-steps, --checkpoint-minutes): when they are written, and that a run
/// resumed from whatever a crash left on disk ends exactly where the uninterrupted run ends. The real SIGKILL tests
/// of the command live in CrossModal.Cli.Tests (KillTests); here a "crash" is a copy of the output folder taken at a
/// batch, which is what a kill at that moment leaves.
/// </summary>
public sealed class PeriodicCheckpointTests
{
    // 24 images x 5 captions / batch 16 = 8 batches per epoch, 3 epochs = iterations 1..24; epochs end at 8, 16, 24.
    private static TrainOptions Options(TinyPrecomp data, string output, int steps = 0, double minutes = 0) => new()
    {
        DataPath = data.Directory, OutputPath = Path.Combine(data.Directory, output), Seed = 7,
        Recipe = new TrainingRecipe { BatchSize = 16, NumEpochs = 3, LrUpdate = 2, MaxViolation = true, ValStep = 5 },
        CheckpointSteps = steps, CheckpointMinutes = minutes,
    };

    private static readonly ModelConfig Dropout = new DropoutConfig { EmbedSize = 12, WordDim = 6, Dropout = 0.5f };

    [Fact]
    public void Should_SaveEveryCheckpointStepsInsideTheEpoch_AndAtEveryEpochEnd()
    {
        using var data = new TinyPrecomp();
        var options = Options(data, "out", steps: 3);
        var saved = SavedIterations(options, trainer => { });
        Assert.Equal([3, 6, 8, 9, 12, 15, 16, 18, 21, 24], saved);
    }

    [Fact]
    public void Should_SaveEveryCheckpointMinutes_CountingFromTheLastSave()
    {
        // Each batch takes 4 minutes of a manual clock; with a 10-minute interval the save comes every third batch,
        // and an epoch-end save restarts the count (8 -> 11, not 9).
        using var data = new TinyPrecomp();
        var options = Options(data, "out", minutes: 10);
        var clock = new ManualClock();
        var saved = SavedIterations(options, trainer => trainer.Clock = clock, clock);
        Assert.Equal([3, 6, 8, 11, 14, 16, 19, 22, 24], saved);
    }

    [Fact]
    public void Should_SaveOnlyAtEpochEnds_WhenBothIntervalsAreOff()
    {
        using var data = new TinyPrecomp();
        Assert.Equal([8, 16, 24], SavedIterations(Options(data, "out"), trainer => { }));
    }

    [Theory]
    [InlineData(4)]  // just after the periodic checkpoint of iteration 3
    [InlineData(7)]  // after iteration 6's checkpoint and the mid-epoch validation of iteration 5
    [InlineData(11)] // in epoch 2: the epoch-1 line, and iteration 10's line newer than the checkpoint (9), are on disk
    [InlineData(17)] // just after an epoch-end checkpoint
    public void Should_EndBitIdentical_WhenResumedFromWhatACrashAtThatBatchLeaves(int crashAt)
    {
        using var data = new TinyPrecomp(regions: 2);
        var vocab = Vocabulary.Load(data.VocabPath);
        var full = Options(data, "full", steps: 3);
        using (var trainer = Trainer.Create(full, Dropout, vocab)) trainer.Run(cancellationToken: TestContext.Current.CancellationToken);

        // The second run is "killed" at the report of iteration crashAt: its folder is copied then, and the run is
        // thrown away; the copy is what a SIGKILL at that moment leaves behind.
        var partial = Options(data, "partial", steps: 3);
        string crashed = Path.Combine(data.Directory, "crashed");
        using (var trainer = Trainer.Create(partial, Dropout, vocab))
        {
            var progress = new Inline<TrainProgress>(p => { if (p.Step == crashAt) CopyFolder(partial.OutputPath, crashed); });
            trainer.Run(progress, TestContext.Current.CancellationToken);
        }
        using (var resumed = Trainer.Resume(Path.Combine(crashed, Trainer.CheckpointName), outputPath: crashed))
            Assert.False(resumed.Run(cancellationToken: TestContext.Current.CancellationToken).Interrupted);
        RunComparison.AssertSameRun(full.OutputPath, crashed);
    }

    [Fact]
    public void Should_KeepTheRunsIntervals_UnlessResumeChangesThem()
    {
        using var data = new TinyPrecomp();
        var vocab = Vocabulary.Load(data.VocabPath);
        var options = Options(data, "out", steps: 3) with { Recipe = new TrainingRecipe { BatchSize = 16, NumEpochs = 1 } };
        using (var trainer = Trainer.Create(options, new VseConfig { EmbedSize = 8, WordDim = 4 }, vocab))
            trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
        string path = Path.Combine(options.OutputPath, Trainer.CheckpointName);
        using (var kept = Trainer.Resume(path)) Assert.Equal(3, kept.Options.CheckpointSteps);
        using var changed = Trainer.Resume(path, checkpointMinutes: 2.5, checkpointSteps: 0);
        Assert.Equal((2.5, 0), (changed.Options.CheckpointMinutes, changed.Options.CheckpointSteps));
        Assert.Throws<ArgumentException>(() => Trainer.Resume(path, checkpointSteps: -1));
    }

    /// <summary>Trains and returns the iteration held by checkpoint.safetensors each time it changes.</summary>
    private static List<long> SavedIterations(TrainOptions options, Action<Trainer> setup, ManualClock? clock = null)
    {
        var vocab = Vocabulary.Load(Path.Combine(options.DataPath, "vocab.json"));
        string path = Path.Combine(options.OutputPath, Trainer.CheckpointName);
        var saved = new List<long>();
        void Look()
        {
            if (!File.Exists(path)) return;
            var file = Safetensors.Read(path);
            long step = TrainState.FromJson(file.Metadata["train_state"], path).Step;
            if (saved.Count == 0 || saved[^1] != step) saved.Add(step);
        }
        using var trainer = Trainer.Create(options, new VseConfig { EmbedSize = 8, WordDim = 4 }, vocab);
        setup(trainer);
        // A progress report comes after each iteration and before that iteration's checkpoint: it sees the previous ones.
        var progress = new Inline<TrainProgress>(_ =>
        {
            Look();
            clock?.Advance(TimeSpan.FromMinutes(4));
        });
        trainer.Run(progress, TestContext.Current.CancellationToken);
        Look();
        return saved;
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)), overwrite: true);
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
