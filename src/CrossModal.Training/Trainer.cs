using System.Diagnostics;
using System.Text.Json;
using CrossModal.Data;
using CrossModal.Evaluation;
using CrossModal.Models;
using CrossModal.Models.Loss;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Optim;
using CrossModal.Text;

namespace CrossModal.Training;

/// <summary>
/// The trainer every model shares (the originals' train.py): epochs of shuffled batches, the hinge loss on the
/// batch's score matrix, gradient clipping, Adam with step decay, validation on the dev split after every epoch,
/// the best model by rsum. Writes to the output folder: checkpoint.safetensors (every epoch, and on interruption),
/// model_best.safetensors, metrics.jsonl (one line per epoch) and training_curve.svg. A run resumed from a
/// checkpoint reaches the same result as an uninterrupted run with the same seed and thread count.
/// </summary>
public sealed class Trainer : IDisposable
{
    /// <summary>Latest checkpoint's file name.</summary>
    public const string CheckpointName = "checkpoint.safetensors";

    /// <summary>Best model's file name.</summary>
    public const string BestName = "model_best.safetensors";

    /// <summary>Per-epoch metrics file name.</summary>
    public const string MetricsName = "metrics.jsonl";

    /// <summary>Plot file name.</summary>
    public const string CurveName = "training_curve.svg";

    private readonly TrainOptions _options;
    private readonly Vocabulary _vocab;
    private readonly PrecompDataset _train, _val;
    private readonly MatchingModel _model;
    private readonly Adam _optimizer;
    private readonly StepLr _schedule;
    private readonly Rng _shuffleRng;
    private readonly Rng _modelRng;
    private readonly List<EpochRecord> _history = new();
    private TrainState _state;

    private Trainer(TrainOptions options, Vocabulary vocab, MatchingModel model, Rng shuffleRng, Rng modelRng, TrainState state, PrecompDataset train, PrecompDataset val)
    {
        _options = options;
        _vocab = vocab;
        _model = model;
        _shuffleRng = shuffleRng;
        _modelRng = modelRng;
        _state = state;
        _train = train;
        _val = val;
        _optimizer = new Adam(model.NamedParameters(), options.LearningRate);
        _schedule = new StepLr(options.LearningRate, options.LrUpdate);
    }

    /// <summary>The model being trained.</summary>
    public MatchingModel Model => _model;

    /// <summary>Called after each epoch (for logging).</summary>
    public Action<EpochRecord>? EpochCompleted { get; set; }

    /// <summary>
    /// A new run. <paramref name="config"/> gives the method and its hyper-parameters; its img_dim and vocab_size
    /// are taken from the data and the vocabulary.
    /// </summary>
    public static Trainer Create(TrainOptions options, ModelConfig config, Vocabulary vocab)
    {
        options.Validate();
        var (train, val) = OpenData(options, vocab);
        config = config with { ImgDim = train.FeatureDim, VocabSize = vocab.Count };
        if (config.Model == "scan" && train.Regions == 0)
            throw new InvalidDataException($"{train.FeaturesPath}: SCAN needs region features (N x R x D); this file holds one vector per image (N x {train.FeatureDim}).");
        var rng = new Rng(options.Seed);
        var model = ModelFactory.Create(config, rng);
        var shuffle = rng.Fork();
        var modelRng = rng.Fork();
        var state = new TrainState { EpochShuffleState = shuffle.State, ModelRngState = modelRng.State };
        return new Trainer(options, vocab, model, shuffle, modelRng, state, train, val);
    }

    /// <summary>Continues the run saved in <paramref name="checkpointPath"/>; the data and output folders may be moved.</summary>
    public static Trainer Resume(string checkpointPath, string? dataPath = null, string? outputPath = null)
    {
        var content = Checkpoint.Load(checkpointPath);
        if (content.Options is null || content.State is null || content.VocabJson is null || content.OptimizerTensors.Count == 0)
            throw new InvalidDataException($"{checkpointPath}: not a training checkpoint (it lacks the optimizer state, training options or vocabulary); use model_best/checkpoint files written by 'crossmodal train'.");
        var options = content.Options with
        {
            DataPath = dataPath ?? content.Options.DataPath,
            OutputPath = outputPath ?? content.Options.OutputPath,
        };
        var vocab = Vocabulary.FromJson(content.VocabJson, checkpointPath);
        var (train, val) = OpenData(options, vocab);
        var model = Checkpoint.CreateModel(content);
        var state = content.State;
        var shuffle = new Rng(0) { State = state.EpochShuffleState };
        var modelRng = new Rng(0) { State = state.ModelRngState };
        var trainer = new Trainer(options, vocab, model, shuffle, modelRng, state, train, val);
        trainer._optimizer.LoadState(content.OptimizerTensors, content.OptimizerStep);
        trainer._history.AddRange(ReadHistory(Path.Combine(options.OutputPath, MetricsName), state.Epoch));
        return trainer;
    }

    private static (PrecompDataset Train, PrecompDataset Val) OpenData(TrainOptions options, Vocabulary vocab)
    {
        var train = PrecompDataset.Open(options.DataPath, options.TrainSplit, vocab);
        try
        {
            var val = PrecompDataset.Open(options.DataPath, options.ValSplit, vocab, options.ValMaxCaptions);
            if (val.FeatureDim != train.FeatureDim || val.Regions != train.Regions)
                throw new InvalidDataException($"{val.FeaturesPath}: features are {Math.Max(1, val.Regions)} x {val.FeatureDim}, the training split's are {Math.Max(1, train.Regions)} x {train.FeatureDim}.");
            return (train, val);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>Trains until the last epoch or until <paramref name="cancellationToken"/> fires (then saves and returns).</summary>
    public TrainResult Run(IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(_options.OutputPath);
        string checkpointPath = Path.Combine(_options.OutputPath, CheckpointName);
        string bestPath = Path.Combine(_options.OutputPath, BestName);
        RewriteMetrics();
        var loader = new BatchLoader(_train, _options.BatchSize, shuffle: true, _shuffleRng);
        int batchesPerEpoch = _options.MaxBatchesPerEpoch > 0 ? Math.Min(_options.MaxBatchesPerEpoch, loader.BatchesPerEpoch) : loader.BatchesPerEpoch;
        var parameters = _model.Parameters();

        for (int epoch = _state.Epoch; epoch < _options.NumEpochs; epoch++)
        {
            _schedule.Apply(_optimizer, epoch);
            bool maxViolation = _options.MaxViolation && epoch >= _options.WarmupEpochs;
            var clock = Stopwatch.StartNew();
            int startBatch = _state.Epoch == epoch ? _state.BatchesDone : 0;
            double lossSum = _state.Epoch == epoch ? _state.EpochLossSum : 0;
            // The shuffle generator's state now (the epoch's start, also after a mid-epoch resume) fixes this
            // epoch's permutation: an interruption saves it so the resumed run draws the same one.
            var epochShuffleState = _shuffleRng.State;
            int batch = startBatch;
            _model.Train();
            foreach (var b in loader.Epoch(startBatch))
            {
                if (batch >= batchesPerEpoch) break;
                if (cancellationToken.IsCancellationRequested)
                {
                    _state = _state with { Epoch = epoch, BatchesDone = batch, EpochShuffleState = epochShuffleState, ModelRngState = _modelRng.State, EpochLossSum = lossSum };
                    Checkpoint.Save(checkpointPath, _model, _vocab.ToJson(), _optimizer, _options, _state);
                    return new TrainResult(true, _history.ToList(), _state.BestRsum, _state.BestEpoch, checkpointPath, bestPath);
                }
                float loss = TrainBatch(b, maxViolation, parameters);
                if (!float.IsFinite(loss))
                    throw new TrainingDivergedException($"The loss became {loss} at epoch {epoch + 1}, batch {batch + 1} (learning rate {_optimizer.LearningRate:G3}); the last good checkpoint is {checkpointPath}. Lower --learning-rate or check the features for extreme values.");
                lossSum += loss;
                batch++;
                _state = _state with { Step = _state.Step + 1 };
                progress?.Report(new TrainProgress(epoch, _options.NumEpochs, batch, batchesPerEpoch, lossSum / batch, _state.Step));
            }

            var metrics = Evaluator.Evaluate(new[] { _model }, _val, cancellationToken: CancellationToken.None).Metrics;
            bool best = metrics.Rsum > _state.BestRsum;
            _state = _state with
            {
                Epoch = epoch + 1,
                BatchesDone = 0,
                EpochShuffleState = _shuffleRng.State,
                ModelRngState = _modelRng.State,
                EpochLossSum = 0,
                BestRsum = best ? metrics.Rsum : _state.BestRsum,
                BestEpoch = best ? epoch + 1 : _state.BestEpoch,
            };
            var record = new EpochRecord(epoch + 1, lossSum / Math.Max(1, batchesPerEpoch), _optimizer.LearningRate, clock.Elapsed.TotalSeconds, metrics, best);
            Checkpoint.Save(checkpointPath, _model, _vocab.ToJson(), _optimizer, _options, _state);
            if (best) Checkpoint.Save(bestPath, _model, _vocab.ToJson(), null, _options, _state);
            _history.Add(record);
            File.AppendAllText(Path.Combine(_options.OutputPath, MetricsName), record.ToJsonLine() + "\n");
            TrainingCurve.Write(Path.Combine(_options.OutputPath, CurveName), _history);
            EpochCompleted?.Invoke(record);
        }
        return new TrainResult(false, _history.ToList(), _state.BestRsum, _state.BestEpoch, checkpointPath, bestPath);
    }

    private float TrainBatch(Batch b, bool maxViolation, List<Tensor> parameters)
    {
        using var scope = TensorScope.Begin();
        var images = _model.EncodeImages(b.Images);
        var captions = _model.EncodeCaptions(b.Tokens, b.Lengths, b.MaxLength);
        var scores = _model.Scores(images, captions, b.Lengths);
        var loss = ContrastiveLoss.Compute(scores, _options.Margin, maxViolation);
        float value = loss.ToScalar();
        if (!float.IsFinite(value)) return value;
        _optimizer.ZeroGrad();
        Tape.Backward(loss);
        if (_options.GradClip > 0) GradClip.ClipByTotalNorm(parameters, _options.GradClip);
        _optimizer.Step();
        return value;
    }

    /// <summary>Keeps only metrics lines of epochs the checkpoint covers (a crash may have left later ones).</summary>
    private void RewriteMetrics()
    {
        string path = Path.Combine(_options.OutputPath, MetricsName);
        AtomicFile.WriteAllText(path, string.Concat(_history.Select(r => r.ToJsonLine() + "\n")));
    }

    private static IEnumerable<EpochRecord> ReadHistory(string path, int upToEpoch)
    {
        if (!File.Exists(path)) yield break;
        foreach (var line in File.ReadAllLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement e;
            try { e = JsonDocument.Parse(line).RootElement; }
            catch (JsonException) { continue; }
            int epoch = e.GetProperty("epoch").GetInt32();
            if (epoch > upToEpoch) continue;
            static DirectionMetrics D(JsonElement d) => new(d.GetProperty("r1").GetDouble(), d.GetProperty("r5").GetDouble(), d.GetProperty("r10").GetDouble(), d.GetProperty("medr").GetDouble(), d.GetProperty("meanr").GetDouble());
            yield return new EpochRecord(epoch, e.GetProperty("loss").GetDouble(), e.GetProperty("lr").GetSingle(), e.GetProperty("seconds").GetDouble(),
                new RetrievalMetrics(D(e.GetProperty("i2t")), D(e.GetProperty("t2i"))), e.GetProperty("best").GetBoolean());
        }
    }

    /// <summary>Releases the memory-mapped data.</summary>
    public void Dispose()
    {
        _train.Dispose();
        _val.Dispose();
    }
}
