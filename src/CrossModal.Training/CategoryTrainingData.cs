using CrossModal.Data;
using CrossModal.Data.Category;
using CrossModal.Distributed;
using CrossModal.Evaluation.Category;
using CrossModal.Models;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Training;

/// <summary>
/// Category-level data: the labelled pairs of the run's training classes (<see cref="CategoryRunData"/>), split into
/// the part trained on and a validation part held out of the training split (a fixed fraction of each class, chosen
/// with a fixed seed, the same for every training seed; the test split is never read), shuffled batches of
/// (image features, text features, labels, class embeddings), and validation by mean mAP on the held-out part.
/// </summary>
internal sealed class CategoryTrainingData : ITrainingData
{
    private readonly CategoryDataset _fit, _validation;
    private readonly IReadOnlyList<int> _classes;
    private readonly Tensor? _classEmbeddings;
    private LabelledBatchLoader? _loader;

    private CategoryTrainingData(CategoryDataset fit, CategoryDataset validation, IReadOnlyList<int> classes, Tensor? classEmbeddings)
    {
        _fit = fit;
        _validation = validation;
        _classes = classes;
        _classEmbeddings = classEmbeddings;
    }

    /// <summary>Opens the run's data as <paramref name="config"/> needs it (class embeddings only for a model that uses them).</summary>
    public static CategoryTrainingData Open(CategoryConfig config, TrainOptions options)
    {
        var category = options.Category ?? new CategoryDataOptions();
        var run = CategoryRunData.Open(options.DataPath, options.TrainSplit, category);
        var held = run.ValidationRows(category.ValidationFraction, category.ValidationSeed);
        var heldSet = held.ToHashSet();
        var fitRows = Enumerable.Range(0, run.Train.Count).Where(i => !heldSet.Contains(i)).ToArray();
        if (held.Length == 0 || fitRows.Length < 2)
            throw new InvalidDataException($"{options.DataPath}: split '{options.TrainSplit}' has {run.Train.Count} pairs of the training classes; too few to hold out a validation part.");
        var embeddings = config.UsesClassEmbeddings ? run.ClassEmbeddings() : null;
        return new CategoryTrainingData(run.Train.SelectRows(fitRows), run.Train.SelectRows(held), run.Classes, embeddings);
    }

    public DataShape Shape => new(_fit.ImageFeatures.Dim(1), TextDim: _fit.TextFeatures.Dim(1), Classes: _classes.Count,
        ClassEmbeddingDim: _classEmbeddings?.Dim(1) ?? 0);

    public void Prepare(RetrievalModel model) =>
        ((CategoryModel)model).FitInputStandardization(_fit.ImageFeatures.Data, _fit.TextFeatures.Data, _fit.Count);

    public int BatchesPerEpoch(int batchSize) => Loader(batchSize).BatchesPerEpoch;

    public int TrainingItems => _fit.Count;

    /// <summary>One process only: category models train in seconds, so they are not data-parallel.</summary>
    public IEnumerable<IBatch> Epoch(int batchSize, Rng shuffle, int startBatch, int rank = 0, int ranks = 1) => ranks == 1
        ? Loader(batchSize).Epoch(shuffle, startBatch)
        : throw new NotSupportedException("Category-level models train in one process, not on several ranks.");

    private LabelledBatchLoader Loader(int batchSize)
    {
        if (_loader?.BatchSize != batchSize)
            _loader = new LabelledBatchLoader(_fit, Enumerable.Range(0, _fit.Count).ToArray(), _classes, batchSize, _classEmbeddings);
        return _loader;
    }

    public ValidationResult Validate(RetrievalModel model, ValidationMeasure measure, ICommunicator? ranks, CancellationToken cancellationToken)
    {
        var m = (CategoryModel)model;
        bool training = m.Training;
        m.Eval();
        try
        {
            var metrics = CategoryProtocol.Evaluate(m, _validation);
            return ValidationResult.Of(measure, metrics);
        }
        finally
        {
            m.Train(training);
        }
    }

    public void Dispose()
    {
    }
}
