using CrossModal.Data;
using CrossModal.Distributed;
using CrossModal.Evaluation;
using CrossModal.Models;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;
using CrossModal.Text;

namespace CrossModal.Training;

/// <summary>
/// Instance-level data: the training and validation splits of a precomp folder (features + 5 captions per image),
/// caption batches as the originals' loader makes them, validation by R@K on the (truncated) dev split.
/// </summary>
internal sealed class PrecompTrainingData : ITrainingData
{
    private readonly PrecompDataset _train, _val;
    private readonly Vocabulary _vocab;

    private PrecompTrainingData(PrecompDataset train, PrecompDataset val, Vocabulary vocab)
    {
        _train = train;
        _val = val;
        _vocab = vocab;
    }

    /// <summary>Opens both splits, checked against what <paramref name="family"/> needs.</summary>
    public static PrecompTrainingData Open(ModelFamily family, TrainOptions options, Vocabulary vocab)
    {
        var train = PrecompDataset.Open(options.DataPath, options.TrainSplit, vocab);
        try
        {
            if (family.ImageFeatures == ImageFeatures.Regions && train.Regions == 0)
                throw new InvalidDataException($"{train.FeaturesPath}: {family.Name} needs region features (N x R x D); this file holds one vector per image (N x {train.FeatureDim}).");
            var val = PrecompDataset.Open(options.DataPath, options.ValSplit, vocab, options.ValMaxCaptions);
            if (val.FeatureDim != train.FeatureDim || val.Regions != train.Regions)
            {
                val.Dispose();
                throw new InvalidDataException($"{val.FeaturesPath}: features are {Math.Max(1, val.Regions)} x {val.FeatureDim}, the training split's are {Math.Max(1, train.Regions)} x {train.FeatureDim}.");
            }
            return new PrecompTrainingData(train, val, vocab);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    public DataShape Shape => new(_train.FeatureDim, _train.Regions, VocabSize: _vocab.Count);

    public void Prepare(RetrievalModel model)
    {
    }

    public int BatchesPerEpoch(int batchSize) => new BatchLoader(_train, batchSize, shuffle: false, null).BatchesPerEpoch;

    public int TrainingItems => _train.CaptionCount;

    public IEnumerable<IBatch> Epoch(int batchSize, Rng shuffle, int startBatch, int rank = 0, int ranks = 1) =>
        new BatchLoader(_train, batchSize, shuffle: true, shuffle).Epoch(startBatch, rank, ranks);

    public ValidationResult Validate(RetrievalModel model, ValidationMeasure measure, ICommunicator? ranks, CancellationToken cancellationToken)
    {
        bool training = model.Training;
        model.Eval();
        try
        {
            var handle = new ModelHandle((MatchingModel)model, _vocab);
            var metrics = Evaluator.Evaluate([handle], _val, ranks: ranks, cancellationToken: cancellationToken).Metrics;
            return ValidationResult.Of(measure, metrics);
        }
        finally
        {
            model.Train(training);
        }
    }

    public void Dispose()
    {
        _train.Dispose();
        _val.Dispose();
    }
}
