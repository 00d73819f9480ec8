using System.Diagnostics;
using System.Text.Json.Nodes;
using CrossModal.Distributed;
using CrossModal.Evaluation;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Text;

namespace CrossModal.Training;

/// <summary>
/// The trainer every family shares (the originals' train.py): epochs of shuffled batches, each handed to the
/// family's <see cref="TrainingObjective"/> (forward, backward, optimizer steps), validation with the family's
/// measure at every epoch's end (and every --val-step iterations), the best model kept. Writes to the output folder:
/// checkpoint.safetensors (every epoch, every --checkpoint-minutes/--checkpoint-steps inside an epoch, and on
/// interruption), model_best.safetensors, metrics.jsonl (one line per validation) and training_curve.svg. A run
/// resumed from any checkpoint reaches the same result as an uninterrupted run with the same seed and thread count:
/// the checkpoint holds every optimizer, the shuffle generator's state at the epoch's start, the batches done and
/// the model's own generator (dropout). A failed write (full disk, read-only folder) stops training with one
/// <see cref="IOException"/> that says which checkpoint to resume from; the previous checkpoint stays intact.
/// <para>
/// Data-parallel (<c>mpirun -np N</c>, see <see cref="RankRole"/>): every rank runs this loop on its share of each
/// global batch, which the objective gathers so that the loss is the one-process loss of the whole batch; gradients
/// are summed over the ranks between backward and the optimizer step; only rank 0 writes (and decides when a
/// periodic checkpoint is due). Nothing a checkpoint holds depends on the number of ranks, so a run resumes with any
/// number.
/// </para>
/// </summary>
public sealed class Trainer : IDisposable
{
    /// <summary>Latest checkpoint's file name.</summary>
    public const string CheckpointName = "checkpoint.safetensors";

    /// <summary>Best model's file name.</summary>
    public const string BestName = "model_best.safetensors";

    /// <summary>Per-validation metrics file name.</summary>
    public const string MetricsName = "metrics.jsonl";

    /// <summary>Plot file name.</summary>
    public const string CurveName = "training_curve.svg";

    private readonly TrainOptions _options;
    private readonly string? _vocabJson;
    private readonly ITrainingData _data;
    private readonly RetrievalModel _model;
    private readonly TrainingObjective _objective;
    private readonly Rng _shuffleRng;
    private readonly List<EpochRecord> _history = new();
    private readonly RankRole _role;
    private TrainState _state;
    private long _lastSave;     // Clock timestamp of the last checkpoint written (or of the run's start)
    private long? _savedStep;   // iteration the checkpoint on disk holds (null: none written for this run yet)

    private Trainer(TrainOptions options, string? vocabJson, ITrainingData data, RetrievalModel model, Rng shuffleRng, TrainState state, RankRole role)
    {
        _role = role;
        _options = options;
        _vocabJson = vocabJson;
        _data = data;
        _model = model;
        _shuffleRng = shuffleRng;
        _state = state;
        _objective = model.Family.CreateObjective(model, options.Recipe);
    }

    /// <summary>The model being trained.</summary>
    public RetrievalModel Model => _model;

    /// <summary>The run's options (a resumed run's include the intervals it was resumed with).</summary>
    public TrainOptions Options => _options;

    /// <summary>The time source of periodic checkpoints (--checkpoint-minutes); tests substitute a manual clock.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Called after each validation (for logging).</summary>
    public Action<EpochRecord>? EpochCompleted { get; set; }

    /// <summary>
    /// Called between the backward pass and the optimizer step of every iteration with the parameters about to be
    /// updated (data-parallel training all-reduces their gradients here).
    /// </summary>
    public Action<IReadOnlyList<Tensor>>? AfterBackward { get; set; }

    /// <summary>
    /// Data-parallel training: the size of the gradient buckets all-reduced while the backward goes on (PyTorch DDP's
    /// bucket_cap_mb, 25 MB by default); set before training.
    /// </summary>
    public long GradientBucketBytes
    {
        get => _role.BucketBytes;
        set => _role.BucketBytes = value;
    }

    /// <summary>
    /// A new run. <paramref name="config"/> gives the family and its hyper-parameters; the sizes the data dictates
    /// (feature width, vocabulary size) are taken from the data and the vocabulary. With several
    /// <paramref name="ranks"/>, every rank calls this with the same arguments (a failure on any rank fails all of
    /// them with its message).
    /// </summary>
    public static Trainer Create(TrainOptions options, ModelConfig config, Vocabulary? vocab, ICommunicator? ranks = null)
    {
        var role = new RankRole(ranks ?? new SingleProcessCommunicator());
        return Agreement.Run(role.Ranks, () => CreateRank(options, config, vocab, role), t => t.Dispose());
    }

    private static Trainer CreateRank(TrainOptions options, ModelConfig config, Vocabulary? vocab, RankRole role)
    {
        options.Validate();
        var family = config.Family;
        var data = OpenData(config, options, vocab, role);
        try
        {
            config = config.ForData(data.Shape);
            var rng = new Rng(options.Seed);
            var model = family.Create(config, rng);
            family.InitializeForTraining(model);
            data.Prepare(model);
            var shuffle = rng.Fork();
            model.Noise.State = rng.Fork().State;
            var state = new TrainState { EpochShuffleState = shuffle.State, ModelRngState = model.Noise.State };
            return new Trainer(options, vocab?.ToJson(), data, model, shuffle, state, role);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpointPath"/>; the data and output folders may be moved, and
    /// the checkpoint intervals changed (null keeps the run's). With several <paramref name="ranks"/> (any number:
    /// nothing saved depends on it), rank 0 reads the checkpoint and sends it to the others, so it need not exist on
    /// their machines.
    /// </summary>
    public static Trainer Resume(string checkpointPath, string? dataPath = null, string? outputPath = null,
        double? checkpointMinutes = null, int? checkpointSteps = null, ICommunicator? ranks = null)
    {
        var role = new RankRole(ranks ?? new SingleProcessCommunicator());
        var intervals = (checkpointMinutes, checkpointSteps);
        if (!role.DataParallel) return ResumeRank(Checkpoint.Load(checkpointPath), checkpointPath, dataPath, outputPath, intervals, role);
        var bytes = Agreement.Run(role.Ranks, () => !role.Writes ? Array.Empty<byte>()
            : File.Exists(checkpointPath) ? File.ReadAllBytes(checkpointPath) : throw new FileNotFoundException($"{checkpointPath}: checkpoint not found.", checkpointPath));
        long[] length = { bytes.LongLength };
        role.Ranks.Broadcast<long>(length, 0);
        if (!role.Writes) bytes = new byte[length[0]];
        role.Ranks.Broadcast<byte>(bytes, 0);
        return Agreement.Run(role.Ranks, () => ResumeRank(Checkpoint.Parse(bytes, checkpointPath), checkpointPath, dataPath, outputPath, intervals, role), t => t.Dispose());
    }

    private static Trainer ResumeRank(TrainingCheckpoint ckpt, string checkpointPath, string? dataPath, string? outputPath,
        (double? Minutes, int? Steps) intervals, RankRole role)
    {
        if (ckpt.Options is null || ckpt.State is null || ckpt.OptimizerSteps.Count == 0)
            throw new InvalidDataException($"{checkpointPath}: not a training checkpoint of this version (it lacks the optimizer state or the training options); use checkpoint.safetensors written by 'crossmodal train'.");
        var options = ckpt.Options with
        {
            DataPath = dataPath ?? ckpt.Options.DataPath,
            OutputPath = outputPath ?? ckpt.Options.OutputPath,
            CheckpointMinutes = intervals.Minutes ?? ckpt.Options.CheckpointMinutes,
            CheckpointSteps = intervals.Steps ?? ckpt.Options.CheckpointSteps,
        };
        options.Validate();
        var vocab = ckpt.File.VocabJson is { } json ? Vocabulary.FromJson(json, checkpointPath) : null;
        var model = ModelFile.CreateModel(ckpt.File);
        var data = OpenData(model.Config, options, vocab, role);
        try
        {
            var state = ckpt.State;
            model.Noise.State = state.ModelRngState;
            var trainer = new Trainer(options, ckpt.File.VocabJson, data, model, new Rng(0) { State = state.EpochShuffleState }, state, role)
            {
                _savedStep = state.Step,
            };
            Checkpoint.RestoreOptimizers(ckpt, trainer._objective);
            if (role.Writes) trainer._history.AddRange(trainer.ReadHistory(Path.Combine(options.OutputPath, MetricsName)));
            return trainer;
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    private static ITrainingData OpenData(ModelConfig config, TrainOptions options, Vocabulary? vocab, RankRole role)
    {
        var family = config.Family;
        ITrainingData data = family.Task switch
        {
            RetrievalTask.Instance => PrecompTrainingData.Open(family, options,
                vocab ?? throw new ArgumentException($"model '{family.Name}' reads captions: it needs a vocabulary (--vocab).")),
            RetrievalTask.Category => CategoryTrainingData.Open((CategoryConfig)config, options),
            _ => throw new NotSupportedException($"Training {family.Task}-level models is not available yet (model '{family.Name}')."),
        };
        if (role.DataParallel) CheckBatchesCoverRanks(data, options, role.Ranks.Size);
        return data;
    }

    /// <summary>Every global batch must give each rank at least one row (the last batch of an epoch is the smallest).</summary>
    private static void CheckBatchesCoverRanks(ITrainingData data, TrainOptions options, int ranks)
    {
        int size = options.Recipe.BatchSize, items = data.TrainingItems, batches = data.BatchesPerEpoch(size);
        bool lastRuns = options.MaxBatchesPerEpoch == 0 || options.MaxBatchesPerEpoch >= batches;
        int smallest = lastRuns && items % size != 0 ? items % size : Math.Min(size, items);
        if (smallest < ranks)
        {
            data.Dispose();
            throw new ArgumentException($"--batch-size {size} on {items} training captions gives a batch of {smallest}, fewer than the {ranks} ranks: every rank needs at least one caption of every batch (use fewer ranks or another batch size).");
        }
    }

    /// <summary>Trains until the last epoch or until <paramref name="cancellationToken"/> fires (then saves and returns).</summary>
    public TrainResult Run(IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (_role.Writes) Persist(() => Directory.CreateDirectory(_options.OutputPath));
        // Every rank starts from rank 0's weights and optimizer state (they are equal by construction; this makes it so
        // even on machines that would initialise differently).
        ParameterSync.Broadcast(_role.Ranks, _model.StateDict().Select(t => t.Tensor)
            .Concat(_objective.Optimizers.SelectMany(o => o.Optimizer.StateTensors().Select(t => t.Tensor))));
        string checkpointPath = Path.Combine(_options.OutputPath, CheckpointName);
        string bestPath = Path.Combine(_options.OutputPath, BestName);
        // Temporary files of writes a crash interrupted (AtomicFile's ".name.pid.guid.tmp"): never read, only removed.
        if (_role.Writes)
            foreach (var name in new[] { CheckpointName, BestName, MetricsName, CurveName })
                AtomicFile.RemoveLeftovers(Path.Combine(_options.OutputPath, name));
        RewriteMetrics();
        _lastSave = Clock.GetTimestamp();
        var recipe = _options.Recipe;
        int batchesPerEpoch = _data.BatchesPerEpoch(recipe.BatchSize);
        if (_options.MaxBatchesPerEpoch > 0) batchesPerEpoch = Math.Min(_options.MaxBatchesPerEpoch, batchesPerEpoch);
        var measure = _model.Family.ValidationMeasure;

        for (int epoch = _state.Epoch; epoch < recipe.NumEpochs; epoch++)
        {
            _objective.BeginEpoch(epoch);
            var clock = Stopwatch.StartNew();
            bool resumed = _state.Epoch == epoch;
            int batch = resumed ? _state.BatchesDone : 0;
            double lossSum = resumed ? _state.EpochLossSum : 0;
            var termSums = resumed ? new Dictionary<string, double>(_state.EpochTermSums) : new Dictionary<string, double>();
            // The shuffle generator's state now (the epoch's start, also after a mid-epoch resume) fixes this
            // epoch's permutation: an interruption saves it so the resumed run draws the same one.
            var epochShuffleState = _shuffleRng.State;
            _model.Train();
            foreach (var b in _data.Epoch(recipe.BatchSize, _shuffleRng, batch, _role.Ranks.Rank, _role.Ranks.Size))
            {
                if (batch >= batchesPerEpoch) break;
                if (_role.AnyRank(cancellationToken.IsCancellationRequested))
                {
                    _state = MidEpochState(epoch, batch, epochShuffleState, lossSum, termSums);
                    Save(checkpointPath);
                    return new TrainResult(true, _history.ToList(), _state.BestScore, _state.BestEpoch, checkpointPath, bestPath);
                }
                var result = _objective.Step(b, new TrainingStep(epoch, _state.Step + 1, ReduceGradients, _role.DataParallel ? _role.Ranks : null, _role.OverlapGradients));
                if (!double.IsFinite(result.Loss))
                    throw new TrainingDivergedException($"The loss became {result.Loss} at epoch {epoch + 1}, batch {batch + 1} (learning rate {LearningRate:G3}); the last good checkpoint is {checkpointPath}. Lower --learning-rate or check the features for extreme values.");
                lossSum += result.Loss;
                foreach (var (k, v) in result.Terms) termSums[k] = termSums.GetValueOrDefault(k) + v;
                batch++;
                _state = _state with { Step = _state.Step + 1 };
                progress?.Report(new TrainProgress(epoch, recipe.NumEpochs, batch, batchesPerEpoch, lossSum / batch, _state.Step));
                if (recipe.ValStep > 0 && _state.Step % recipe.ValStep == 0 && batch < batchesPerEpoch)
                {
                    var mid = Validate(epoch + 1, _state.Step, lossSum / batch, termSums, batch, clock.Elapsed.TotalSeconds, measure, bestPath);
                    AppendRecord(mid);
                }
                MaybeSavePeriodicCheckpoint(checkpointPath, epoch, batch, batchesPerEpoch, epochShuffleState, lossSum, termSums);
            }

            var validation = _data.Validate(_model, measure, _role.Ranks, CancellationToken.None);
            bool best = validation.Score > _state.BestScore;
            ParameterSync.CheckIdentical(_role.Ranks, _model.Parameters(), $"after epoch {epoch + 1}");
            _state = _state with
            {
                Epoch = epoch + 1,
                BatchesDone = 0,
                EpochShuffleState = _shuffleRng.State,
                ModelRngState = _model.Noise.State,
                EpochLossSum = 0,
                EpochTermSums = new Dictionary<string, double>(),
                BestScore = best ? validation.Score : _state.BestScore,
                BestEpoch = best ? epoch + 1 : _state.BestEpoch,
            };
            int n = Math.Max(1, batchesPerEpoch);
            var record = new EpochRecord(epoch + 1, null, lossSum / n, termSums.ToDictionary(kv => kv.Key, kv => kv.Value / n), LearningRate,
                clock.Elapsed.TotalSeconds, validation, best);
            // The metrics line and the best model go first: a crash before the checkpoint is written leaves lines the
            // previous checkpoint does not cover, which the resumed run drops and writes again identically.
            AppendRecord(record);
            if (best) SaveBest(bestPath);
            Save(checkpointPath);
        }
        return new TrainResult(false, _history.ToList(), _state.BestScore, _state.BestEpoch, checkpointPath, bestPath);
    }

    /// <summary>A mid-epoch validation (every --val-step iterations): the best model is saved when it improves.</summary>
    private EpochRecord Validate(int epoch, long iteration, double meanLoss, Dictionary<string, double> termSums, int batches, double seconds,
        ValidationMeasure measure, string bestPath)
    {
        var validation = _data.Validate(_model, measure, _role.Ranks, CancellationToken.None);
        bool best = validation.Score > _state.BestScore;
        if (best)
        {
            _state = _state with { BestScore = validation.Score, BestEpoch = epoch };
            SaveBest(bestPath);
        }
        return new EpochRecord(epoch, iteration, meanLoss, termSums.ToDictionary(kv => kv.Key, kv => kv.Value / batches), LearningRate, seconds, validation, best);
    }

    private float LearningRate => _objective.Optimizers[0].Optimizer.LearningRate;

    /// <summary>The step's AfterBackward: the ranks' gradients summed (data-parallel), then the caller's hook.</summary>
    private void ReduceGradients(IReadOnlyList<Tensor> parameters)
    {
        _role.AllReduceGradients(parameters);
        AfterBackward?.Invoke(parameters);
    }

    /// <summary>
    /// Saves a checkpoint inside an epoch when --checkpoint-steps iterations or --checkpoint-minutes have passed since
    /// the last save, so a crash (kill -9, the out-of-memory killer, a pre-empted machine) loses at most that much
    /// work. It holds exactly what an interruption saves (batches done, the shuffle state at the epoch's start, the
    /// model's generator, the loss sums), so a run resumed from it continues as the uninterrupted run does. Never
    /// after the epoch's last batch: the epoch-end checkpoint follows there.
    /// </summary>
    private void MaybeSavePeriodicCheckpoint(string path, int epoch, int batch, int batchesPerEpoch, ulong[] epochShuffleState,
        double lossSum, Dictionary<string, double> termSums)
    {
        // Only the writer decides (its clock): the other ranks would not write anyway.
        if (batch >= batchesPerEpoch || !_role.Writes) return;
        bool bySteps = _options.CheckpointSteps > 0 && _state.Step % _options.CheckpointSteps == 0;
        bool byTime = _options.CheckpointMinutes > 0 && Clock.GetElapsedTime(_lastSave).TotalMinutes >= _options.CheckpointMinutes;
        if (!bySteps && !byTime) return;
        _state = MidEpochState(epoch, batch, epochShuffleState, lossSum, termSums);
        Save(path);
    }

    /// <summary>The state of a run stopped after <paramref name="batch"/> batches of 0-based <paramref name="epoch"/>.</summary>
    private TrainState MidEpochState(int epoch, int batch, ulong[] epochShuffleState, double lossSum, Dictionary<string, double> termSums) =>
        _state with
        {
            Epoch = epoch, BatchesDone = batch, EpochShuffleState = epochShuffleState, ModelRngState = _model.Noise.State,
            EpochLossSum = lossSum, EpochTermSums = new Dictionary<string, double>(termSums),
        };

    // The writes below happen on the writer only (RankRole.Writes): rank 0 of a data-parallel run, or the one process.

    private void Save(string path)
    {
        if (!_role.Writes) return;
        Persist(() => Checkpoint.Save(path, _model, _vocabJson, _objective, _options, _state));
        _savedStep = _state.Step;
        _lastSave = Clock.GetTimestamp();
    }

    private void SaveBest(string path)
    {
        if (_role.Writes) Persist(() => Checkpoint.Save(path, _model, _vocabJson, null, _options, _state));
    }

    /// <summary>
    /// Runs one write of the run's outputs. A failure (a full disk, a read-only folder) stops training: the
    /// <see cref="IOException"/> keeps the writer's message (which file, the previous one unchanged) and adds which
    /// checkpoint to continue from.
    /// </summary>
    private void Persist(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string checkpoint = Path.Combine(_options.OutputPath, CheckpointName);
            string resume = _savedStep is { } step
                ? $"{checkpoint} holds the run up to iteration {step}: free some space or make the folder writable, then continue with --resume {checkpoint}."
                : "no checkpoint has been written for this run yet.";
            throw new IOException($"{e.Message.TrimEnd('.', ' ')}. Training stopped after iteration {_state.Step}; {resume}", e);
        }
    }

    private void AppendRecord(EpochRecord record)
    {
        _history.Add(record);
        if (_role.Writes)
            Persist(() =>
            {
                File.AppendAllText(Path.Combine(_options.OutputPath, MetricsName), record.ToJsonLine() + "\n");
                TrainingCurve.Write(Path.Combine(_options.OutputPath, CurveName), _history, _model.Family.CurveTerms);
            });
        EpochCompleted?.Invoke(record);
    }

    /// <summary>Keeps only metrics lines the checkpoint covers (a crash may have left later ones).</summary>
    private void RewriteMetrics()
    {
        if (!_role.Writes) return;
        string path = Path.Combine(_options.OutputPath, MetricsName);
        Persist(() => AtomicFile.WriteAllText(path, string.Concat(_history.Select(r => r.ToJsonLine() + "\n"))));
    }

    /// <summary>The records of metrics.jsonl that the checkpoint's state covers: completed epochs, and mid-epoch validations up to its iteration.</summary>
    private IEnumerable<EpochRecord> ReadHistory(string path)
    {
        if (!File.Exists(path)) yield break;
        foreach (var line in File.ReadAllLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonNode? node;
            try { node = JsonNode.Parse(line); }
            catch (System.Text.Json.JsonException) { continue; }
            if (node?["measure"] is null) continue;
            var record = EpochRecord.FromJson(node, ReadMetrics);
            bool covered = record.Iteration is { } it ? it <= _state.Step : record.Epoch <= _state.Epoch;
            if (covered) yield return record;
        }
    }

    private IMetrics ReadMetrics(JsonNode node) => _model.Family.Task switch
    {
        RetrievalTask.Instance => RetrievalMetrics.FromJson(node),
        RetrievalTask.Category => Evaluation.Category.CategoryMetrics.FromJson(node),
        _ => throw new NotSupportedException($"No metrics reader for {_model.Family.Task}-level models."),
    };

    /// <summary>Releases the memory-mapped data.</summary>
    public void Dispose() => _data.Dispose();
}
