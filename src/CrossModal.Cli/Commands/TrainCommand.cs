using System.CommandLine;
using CrossModal.Distributed;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Tensors.Threading;
using CrossModal.Text;
using CrossModal.Training;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal train`: trains any registered model family on its data. The family's options and presets come from
/// the registry (<see cref="ModelFamilies"/>); options are named after the original flags. Under
/// <c>mpirun -np N</c> the ranks train data-parallel (each takes its share of every global batch); rank 0 prints and
/// writes the output folder.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var families = ModelFamilies.All;
        var model = new Option<string?>("--model") { Description = $"the method (`crossmodal models` describes each; default: {ModelFamilies.Default.Name} unless a preset says)" };
        model.AcceptOnlyFromAmong(families.Select(f => f.Name).ToArray());
        var presets = ModelFamilies.Presets.ToList();
        var preset = new Option<string?>("--preset") { Description = "a published setting; sets --model too (`crossmodal models` lists them)" };
        preset.AcceptOnlyFromAmong(presets.Select(p => p.Name).ToArray());
        var data = new Option<string?>("--data") { Description = "data folder (precomp: {split}_ims.npy, {split}_caps.txt)" };
        var vocab = new Option<string?>("--vocab") { Description = "vocabulary: SCAN JSON, or the pickled vocab.py object VSE++/VSRN ship (.pkl)" };
        var output = new Option<string?>("--out") { Description = "output folder for checkpoints, metrics.jsonl, training_curve.svg" };
        var resume = new Option<string?>("--resume") { Description = "continue from a checkpoint written by train (optimizers, epoch and random state included)" };
        var seed = new Option<ulong>("--seed") { Description = "random seed (initialisation, shuffling, dropout)", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int>("--threads") { Description = "worker threads (default: all cores; under mpirun each rank's share of its machine's cores)", DefaultValueFactory = _ => RankSession.DefaultThreads };
        var maxBatches = new Option<int>("--max-batches") { Description = "stop each epoch after this many batches (0 = all; for smoke runs)", DefaultValueFactory = _ => 0 };
        var checkpointMinutes = new Option<double>("--checkpoint-minutes")
        {
            Description = "also save checkpoint.safetensors inside an epoch every N minutes, so a crash loses at most that (0 = only at epoch ends)",
            DefaultValueFactory = _ => 10.0,
        };
        var checkpointSteps = new Option<int>("--checkpoint-steps") { Description = "also save a checkpoint every N iterations (0 = off)", DefaultValueFactory = _ => 0 };
        var bucketMb = new Option<double>("--bucket-mb")
        {
            Description = "under mpirun: gradients are all-reduced in buckets of this many MB, each started as soon as the backward has finished its gradients (PyTorch DDP's bucket_cap_mb)",
            DefaultValueFactory = _ => GradientReducer.DefaultBucketBytes / 1048576.0,
        };
        var json = new Option<bool>("--json") { Description = "print one JSON object per validation (epoch) on stdout instead of log lines, then one with \"done\"" };
        var category = new CategoryTrainOptions();
        var flags = new FamilyOptions(families);

        var cmd = new Command("train", "Train a model (VSE++, SCAN, ... on precomputed features; MASLN, ACMR-style on labelled pairs); validates every epoch and keeps the best model.");
        foreach (var o in new Option[] { model, preset, data, vocab, output, resume, seed, threads, maxBatches, checkpointMinutes, checkpointSteps, bucketMb, json }.Concat(category.All).Concat(flags.All))
            cmd.Options.Add(o);

        cmd.SetAction(p =>
        {
            using var session = RankSession.Start();
            return session.Run(() => Train(p, session));
        });
        return cmd;

        int Train(ParseResult p, RankSession session)
        {
            Parallelism.Threads = p.GetValue(threads);
            double bucket = p.GetValue(bucketMb);
            if (!(bucket * 1048576 >= sizeof(float))) throw new CliException($"--bucket-mb must hold at least one float (4 bytes), got {bucket}.");
            bool asJson = p.GetValue(json);
            TextWriter log = !session.IsRoot ? TextWriter.Null : asJson ? Console.Error : Console.Out;
            var ranks = session.Ranks;
            string where = $"{Parallelism.Threads} threads{(ranks.Size > 1 ? $" x {ranks.Size} ranks" : "")}";
            // A new run's family, configuration and options (null when resuming: the checkpoint holds them).
            Run? run = p.GetValue(resume) is null ? Setup(p) : null;
            if (run is { Family.Task: RetrievalTask.Category } categoryRun)
            {
                if (ranks.Size > 1) throw new CliException("category-level models train in one process, not under mpirun.");
                return TrainCategory(p, category, categoryRun.Options, categoryRun.Config, log, asJson);
            }
            // Every rank checks the options and opens the data; a failure on any rank ends all of them with its message.
            var trainer = Agreement.Run(ranks, () => Open(p, run, ranks, log, where), t => t.Dispose());
            trainer.GradientBucketBytes = (long)(bucket * 1048576);
            using (trainer)
                return RunTrainer(trainer, asJson, session.IsRoot);
        }

        Trainer Open(ParseResult p, Run? run, ICommunicator ranks, TextWriter log, string where)
        {
            Trainer trainer;
            if (run is not var (family, config, options))
            {
                string resumePath = p.GetValue(resume)!;
                // The checkpoint intervals may change on resume (a slower machine); the rest is the run's own.
                double? minutes = p.GetResult(checkpointMinutes) is { Implicit: false } ? p.GetValue(checkpointMinutes) : null;
                int? steps = p.GetResult(checkpointSteps) is { Implicit: false } ? p.GetValue(checkpointSteps) : null;
                trainer = Trainer.Resume(resumePath, p.GetValue(data), p.GetValue(output), minutes, steps, ranks);
                log.WriteLine($"resuming {resumePath}, {where}");
            }
            else
            {
                category.RejectFor(p, family);
                Vocabulary? vocabulary = p.GetValue(vocab) is { } vocabPath ? VocabularyFile.Load(vocabPath)
                    : family.Task == RetrievalTask.Instance ? throw new CliException("--vocab is required (a SCAN vocabulary JSON), unless --resume is given.") : null;
                trainer = Trainer.Create(options, config, vocabulary, ranks);
                log.WriteLine($"training {family.Name} ({trainer.Model.Config.ToJson()}; {options.Recipe.ToJson()}) on {options.DataPath}, {where}");
            }
            return trainer;
        }

        // The family, its configuration and the run's options from --model/--preset, the family flags and the rest.
        Run Setup(ParseResult p)
        {
            string dataPath = p.GetValue(data) ?? throw new CliException("--data is required (a precomp or labelled-pairs folder), unless --resume is given.");
            string outPath = p.GetValue(output) ?? throw new CliException("--out is required (the output folder), unless --resume is given.");
            var chosen = p.GetValue(preset) is { } name ? presets.First(x => x.Name == name) : null;
            string familyName = p.GetValue(model) ?? chosen?.Family ?? ModelFamilies.Default.Name;
            if (chosen is not null && chosen.Family != familyName)
                throw new CliException($"--preset {chosen.Name} is a {chosen.Family} setting, but --model says {familyName}.");
            var family = ModelFamilies.Get(familyName);
            var config = chosen?.Config(family.DefaultConfig) ?? family.DefaultConfig;
            var recipe = chosen?.Recipe(family.DefaultRecipe) ?? family.DefaultRecipe;
            config = flags.Apply(p, config);
            recipe = flags.Apply(p, recipe);
            var options = new TrainOptions { DataPath = dataPath, OutputPath = outPath, Recipe = recipe, Seed = p.GetValue(seed), MaxBatchesPerEpoch = p.GetValue(maxBatches),
                CheckpointMinutes = p.GetValue(checkpointMinutes), CheckpointSteps = p.GetValue(checkpointSteps),
            };
            return new Run(family, config, options);
        }
    }

    /// <summary>What a new run trains: the family, its configuration and the run's options.</summary>
    private sealed record Run(ModelFamily Family, ModelConfig Config, TrainOptions Options);

    /// <summary>A category-level model: one run, or one run per seen/unseen split (each in its own folder).</summary>
    private static int TrainCategory(ParseResult p, CategoryTrainOptions category, TrainOptions options, ModelConfig config, TextWriter log, bool asJson)
    {
        options = options with { Category = category.DataOptions(p) };
        var runs = CategoryRunPlan.Plan(options, category.Unseen(p), p.GetValue(category.Splits), p.GetValue(category.SplitSeed));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int k = 0; k < runs.Count; k++)
        {
            var (runOptions, split) = runs[k];
            using var trainer = Trainer.Create(runOptions, config, null);
            string which = split is null ? "all classes" : $"{split.Description}{(runs.Count > 1 ? $" (run {k + 1} of {runs.Count})" : "")}";
            log.WriteLine($"training {config.Model} on {which} of {runOptions.DataPath} into {runOptions.OutputPath} ({trainer.Model.Config.ToJson()}; {runOptions.Recipe.ToJson()}), {Parallelism.Threads} threads");
            int code = RunTrainer(trainer, asJson);
            if (code != 0) return code;
        }
        log.WriteLine($"trained {runs.Count} model{(runs.Count > 1 ? "s" : "")} in {clock.Elapsed.TotalSeconds:F1} s; evaluate with: crossmodal eval --checkpoint {options.OutputPath}");
        return 0;
    }

    /// <summary>Runs the loop; only <paramref name="prints"/> (rank 0, or the one process) prints.</summary>
    internal static int RunTrainer(Trainer trainer, bool asJson = false, bool prints = true)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
            if (prints) Console.Error.WriteLine("\nstopping after this batch and saving a checkpoint...");
        };
        Console.CancelKeyPress += onCancel;
        // mpirun turns Ctrl+C into SIGTERM for the ranks (then kills them) but forwards SIGUSR1: `kill -USR1 <mpirun>`
        // stops a data-parallel run after the batch and saves, like Ctrl+C in one process (the ranks agree on the batch).
        using var usr1 = !OperatingSystem.IsLinux() ? null : System.Runtime.InteropServices.PosixSignalRegistration.Create(
            (System.Runtime.InteropServices.PosixSignal)10, c =>
            {
                c.Cancel = true;
                cts.Cancel();
                if (prints) Console.Error.WriteLine("\nSIGUSR1: stopping after this batch and saving a checkpoint...");
            });
        try
        {
            var bar = new ConsoleProgress();
            trainer.EpochCompleted = r =>
            {
                if (!prints) return;
                bar.Clear();
                Console.WriteLine(asJson ? r.ToJsonLine() : r.ToString());
            };
            var progress = prints ? new SyncProgress<TrainProgress>(p => bar.Update($"epoch {p.Epoch + 1}/{p.NumEpochs}", p.Batch, p.BatchesPerEpoch, $"loss {p.MeanLoss:F3}")) : null;
            var result = trainer.Run(progress, cts.Token);
            bar.Clear();
            if (!prints) return result.Interrupted ? 130 : 0;
            var measure = ConfigJson.EnumName(trainer.Model.Family.ValidationMeasure);
            if (asJson)
                Console.WriteLine(new System.Text.Json.Nodes.JsonObject
                {
                    ["done"] = !result.Interrupted, ["interrupted"] = result.Interrupted, ["measure"] = measure, ["best_score"] = result.BestScore,
                    ["best_epoch"] = result.BestEpoch, ["best_path"] = result.BestPath, ["checkpoint_path"] = result.CheckpointPath,
                }.ToJsonString());
            if (result.Interrupted)
            {
                Console.Error.WriteLine($"interrupted: checkpoint saved to {result.CheckpointPath}; continue with --resume {result.CheckpointPath}");
                return 130;
            }
            string best = result.BestScore.ToString(trainer.Model.Family.ValidationMeasure == Models.Objectives.ValidationMeasure.MeanAveragePrecision ? "F4" : "F1", System.Globalization.CultureInfo.InvariantCulture);
            if (!asJson) Console.WriteLine($"done: best {measure} {best} at epoch {result.BestEpoch}; best model {result.BestPath}");
            return 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
