using System.CommandLine;
using System.CommandLine.Parsing;
using CrossModal.Models;
using CrossModal.Tensors.Threading;
using CrossModal.Text;
using CrossModal.Training;

namespace CrossModal.Cli.Commands;

/// <summary>`crossmodal train`: trains VSE++ or SCAN on a precomp folder (options named after the original flags).</summary>
internal static class TrainCommand
{
    /// <summary>The published settings (SCAN README; VSE++ README), applied before explicit options.</summary>
    internal static readonly IReadOnlyDictionary<string, (string Description, Func<ModelConfig, TrainOptions, (ModelConfig, TrainOptions)> Apply)> Presets =
        new Dictionary<string, (string, Func<ModelConfig, TrainOptions, (ModelConfig, TrainOptions)>)>
        {
            ["vsepp"] = ("VSE++: max of hinges", (c, o) => (c with { Model = "vsepp" }, o with { MaxViolation = true })),
            ["vse0"] = ("VSE0: sum of hinges, no image normalisation", (c, o) => (c with { Model = "vsepp", NoImgNorm = true }, o with { MaxViolation = false })),
            ["scan-t2i-lse"] = ("SCAN t-i LSE (Flickr30K): λ1 9, λ2 6", (c, o) => (Scan(c, "t2i", "LogSumExp", 9, 6), o with { MaxViolation = true })),
            ["scan-t2i-avg"] = ("SCAN t-i AVG (Flickr30K): λ1 9", (c, o) => (Scan(c, "t2i", "Mean", 9, 6), o with { MaxViolation = true })),
            ["scan-i2t-lse"] = ("SCAN i-t LSE (Flickr30K): λ1 4, λ2 5", (c, o) => (Scan(c, "i2t", "LogSumExp", 4, 5), o with { MaxViolation = true })),
            ["scan-i2t-avg"] = ("SCAN i-t AVG (Flickr30K): λ1 4", (c, o) => (Scan(c, "i2t", "Mean", 4, 6), o with { MaxViolation = true })),
            ["scan-t2i-lse-coco"] = ("SCAN t-i LSE (COCO): λ1 9, λ2 6, 20 epochs, lr 5e-4 decayed at 10", (c, o) => (Scan(c, "t2i", "LogSumExp", 9, 6), Coco(o))),
            ["scan-t2i-avg-coco"] = ("SCAN t-i AVG (COCO): λ1 9, 20 epochs, lr 5e-4 decayed at 10", (c, o) => (Scan(c, "t2i", "Mean", 9, 6), Coco(o))),
            ["scan-i2t-lse-coco"] = ("SCAN i-t LSE (COCO): λ1 4, λ2 20, 20 epochs, lr 5e-4 decayed at 10", (c, o) => (Scan(c, "i2t", "LogSumExp", 4, 20), Coco(o))),
            ["scan-i2t-avg-coco"] = ("SCAN i-t AVG (COCO): λ1 4, 20 epochs, lr 5e-4 decayed at 10", (c, o) => (Scan(c, "i2t", "Mean", 4, 6), Coco(o))),
        };

    private static ModelConfig Scan(ModelConfig c, string dir, string agg, float l1, float l2) =>
        c with { Model = "scan", CrossAttn = dir, AggFunc = agg, LambdaSoftmax = l1, LambdaLse = l2, BiGru = true };

    private static TrainOptions Coco(TrainOptions o) => o with { MaxViolation = true, NumEpochs = 20, LrUpdate = 10, LearningRate = 5e-4f };

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "vsepp or scan (a --preset sets it too)", DefaultValueFactory = _ => "vsepp" };
        model.AcceptOnlyFromAmong("vsepp", "scan");
        var preset = new Option<string?>("--preset") { Description = "published settings: " + string.Join(", ", Presets.Keys) };
        preset.AcceptOnlyFromAmong(Presets.Keys.ToArray());
        var data = new Option<string?>("--data") { Description = "precomp data folder ({split}_ims.npy, {split}_caps.txt)" };
        var vocab = new Option<string?>("--vocab") { Description = "SCAN vocabulary JSON" };
        var output = new Option<string?>("--out") { Description = "output folder for checkpoints, metrics.jsonl, training_curve.svg" };
        var resume = new Option<string?>("--resume") { Description = "continue from a checkpoint written by train (optimizer, epoch and random state included)" };
        var maxViolation = new Option<bool>("--max-violation") { Description = "hardest negative (VSE++/SCAN); --max-violation false gives the sum of hinges", DefaultValueFactory = _ => true };
        var warmup = new Option<int>("--warmup-epochs") { Description = "epochs of sum-of-hinges before max violation (VSE-infinity style)", DefaultValueFactory = _ => 0 };
        var margin = new Option<float>("--margin") { Description = "hinge margin", DefaultValueFactory = _ => 0.2f };
        var epochs = new Option<int>("--num-epochs") { Description = "epochs", DefaultValueFactory = _ => 30 };
        var lrUpdate = new Option<int>("--lr-update") { Description = "epochs between learning-rate decays (x0.1)", DefaultValueFactory = _ => 15 };
        var lr = new Option<float>("--learning-rate") { Description = "Adam learning rate", DefaultValueFactory = _ => 2e-4f };
        var batch = new Option<int>("--batch-size") { Description = "captions per batch", DefaultValueFactory = _ => 128 };
        var clip = new Option<float>("--grad-clip") { Description = "gradient clipping by total L2 norm (0 = off)", DefaultValueFactory = _ => 2f };
        var embed = new Option<int>("--embed-size") { Description = "joint embedding size", DefaultValueFactory = _ => 1024 };
        var wordDim = new Option<int>("--word-dim") { Description = "word embedding size", DefaultValueFactory = _ => 300 };
        var layers = new Option<int>("--num-layers") { Description = "GRU layers", DefaultValueFactory = _ => 1 };
        var noImgNorm = new Option<bool>("--no-imgnorm") { Description = "do not L2-normalise image embeddings" };
        var noTxtNorm = new Option<bool>("--no-txtnorm") { Description = "SCAN: do not L2-normalise word embeddings" };
        var biGru = new Option<bool?>("--bi-gru") { Description = "bidirectional text GRU, directions averaged (default: on for scan, off for vsepp)" };
        var crossAttn = new Option<string>("--cross-attn") { Description = "SCAN direction: t2i or i2t", DefaultValueFactory = _ => "t2i" };
        crossAttn.AcceptOnlyFromAmong("t2i", "i2t");
        var agg = new Option<string>("--agg-func") { Description = "SCAN pooling: LogSumExp, Mean, Max, Sum", DefaultValueFactory = _ => "LogSumExp" };
        agg.AcceptOnlyFromAmong("LogSumExp", "Mean", "Max", "Sum");
        var lambdaLse = new Option<float>("--lambda-lse") { Description = "SCAN LogSumExp temperature", DefaultValueFactory = _ => 6f };
        var lambdaSoftmax = new Option<float>("--lambda-softmax") { Description = "SCAN attention temperature", DefaultValueFactory = _ => 9f };
        var rawNorm = new Option<string>("--raw-feature-norm") { Description = "SCAN: clipped_l2norm, l2norm, softmax, clipped, no_norm", DefaultValueFactory = _ => "clipped_l2norm" };
        rawNorm.AcceptOnlyFromAmong("clipped_l2norm", "l2norm", "softmax", "clipped", "no_norm");
        var encType = new Option<string>("--precomp-enc-type") { Description = "SCAN image encoder: basic or weight_norm", DefaultValueFactory = _ => "basic" };
        encType.AcceptOnlyFromAmong("basic", "weight_norm");
        var seed = new Option<ulong>("--seed") { Description = "random seed (initialisation and shuffling)", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int>("--threads") { Description = "worker threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var maxBatches = new Option<int>("--max-batches") { Description = "stop each epoch after this many batches (0 = all; for smoke runs)", DefaultValueFactory = _ => 0 };

        var cmd = new Command("train", "Train a VSE++ or SCAN model on precomputed features; validates on dev every epoch and keeps the best model by rsum.");
        foreach (var o in new Option[] { model, preset, data, vocab, output, resume, maxViolation, warmup, margin, epochs, lrUpdate, lr, batch, clip, embed, wordDim, layers,
                     noImgNorm, noTxtNorm, biGru, crossAttn, agg, lambdaLse, lambdaSoftmax, rawNorm, encType, seed, threads, maxBatches })
            cmd.Options.Add(o);

        cmd.SetAction(p =>
        {
            Parallelism.Threads = p.GetValue(threads);
            Trainer trainer;
            if (p.GetValue(resume) is { } resumePath)
            {
                trainer = Trainer.Resume(resumePath, p.GetValue(data), p.GetValue(output));
                Console.WriteLine($"resuming {resumePath}");
            }
            else
            {
                string dataPath = p.GetValue(data) ?? throw new CliException("--data is required (a precomp folder), unless --resume is given.");
                string outPath = p.GetValue(output) ?? throw new CliException("--out is required (the output folder), unless --resume is given.");
                string vocabPath = p.GetValue(vocab) ?? throw new CliException("--vocab is required (a SCAN vocabulary JSON), unless --resume is given.");
                var config = new ModelConfig { Model = p.GetValue(model)! };
                var options = new TrainOptions { DataPath = dataPath, OutputPath = outPath };
                if (p.GetValue(preset) is { } name) (config, options) = Presets[name].Apply(config, options);
                bool Given(Option o) => p.GetResult(o) is { Implicit: false };
                config = config with
                {
                    Model = Given(model) || p.GetValue(preset) is null ? p.GetValue(model)! : config.Model,
                    EmbedSize = p.GetValue(embed),
                    WordDim = p.GetValue(wordDim),
                    NumLayers = p.GetValue(layers),
                    NoImgNorm = Given(noImgNorm) ? p.GetValue(noImgNorm) : config.NoImgNorm,
                    NoTxtNorm = p.GetValue(noTxtNorm),
                    PrecompEncType = p.GetValue(encType)!,
                    RawFeatureNorm = p.GetValue(rawNorm)!,
                    CrossAttn = Given(crossAttn) ? p.GetValue(crossAttn)! : config.CrossAttn,
                    AggFunc = Given(agg) ? p.GetValue(agg)! : config.AggFunc,
                    LambdaLse = Given(lambdaLse) ? p.GetValue(lambdaLse) : config.LambdaLse,
                    LambdaSoftmax = Given(lambdaSoftmax) ? p.GetValue(lambdaSoftmax) : config.LambdaSoftmax,
                };
                config = config with { BiGru = p.GetValue(biGru) ?? (config.Model == "scan" || config.BiGru) };
                options = options with
                {
                    MaxViolation = Given(maxViolation) || p.GetValue(preset) is null ? p.GetValue(maxViolation) : options.MaxViolation,
                    WarmupEpochs = p.GetValue(warmup),
                    Margin = p.GetValue(margin),
                    NumEpochs = Given(epochs) ? p.GetValue(epochs) : options.NumEpochs,
                    LrUpdate = Given(lrUpdate) ? p.GetValue(lrUpdate) : options.LrUpdate,
                    LearningRate = Given(lr) ? p.GetValue(lr) : options.LearningRate,
                    BatchSize = p.GetValue(batch),
                    GradClip = p.GetValue(clip),
                    Seed = p.GetValue(seed),
                    MaxBatchesPerEpoch = p.GetValue(maxBatches),
                };
                var vocabulary = Vocabulary.Load(vocabPath);
                trainer = Trainer.Create(options, config, vocabulary);
                Console.WriteLine($"training {trainer.Model.Config.Model} ({trainer.Model.Config.ToJson()}) on {dataPath}, {Parallelism.Threads} threads");
            }
            using (trainer)
                return RunTrainer(trainer);
        });
        return cmd;
    }

    internal static int RunTrainer(Trainer trainer)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
            Console.Error.WriteLine("\nstopping after this batch and saving a checkpoint...");
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var bar = new ConsoleProgress();
            trainer.EpochCompleted = r =>
            {
                bar.Clear();
                Console.WriteLine(r.ToString());
            };
            var progress = new SyncProgress<TrainProgress>(p => bar.Update($"epoch {p.Epoch + 1}/{p.NumEpochs}", p.Batch, p.BatchesPerEpoch, $"loss {p.MeanLoss:F3}"));
            var result = trainer.Run(progress, cts.Token);
            bar.Clear();
            if (result.Interrupted)
            {
                Console.WriteLine($"interrupted: checkpoint saved to {result.CheckpointPath}; continue with --resume {result.CheckpointPath}");
                return 130;
            }
            Console.WriteLine($"done: best rsum {result.BestRsum:F1} at epoch {result.BestEpoch}; best model {result.BestPath}");
            return 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
