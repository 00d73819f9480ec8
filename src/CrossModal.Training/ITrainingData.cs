using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Training;

/// <summary>
/// The data of a run, whatever the task: the sizes it dictates to the model, shuffled batches of the training split
/// (an epoch's permutation drawn from the generator when the enumeration starts), and validation of a model on the
/// validation split by a measure.
/// </summary>
internal interface ITrainingData : IDisposable
{
    /// <summary>The sizes the model must fit (feature width, vocabulary, ...).</summary>
    DataShape Shape { get; }

    /// <summary>Batches in one epoch of <paramref name="batchSize"/>.</summary>
    int BatchesPerEpoch(int batchSize);

    /// <summary>One epoch of batches from <paramref name="startBatch"/> on, shuffled by <paramref name="shuffle"/>.</summary>
    IEnumerable<IBatch> Epoch(int batchSize, Rng shuffle, int startBatch);

    /// <summary>Validates <paramref name="model"/> (switched to evaluation mode for the duration, then back).</summary>
    ValidationResult Validate(RetrievalModel model, ValidationMeasure measure, CancellationToken cancellationToken);
}
