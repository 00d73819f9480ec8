using CrossModal.Data;
using CrossModal.Distributed;
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

    /// <summary>
    /// Data-dependent initialisation of a freshly created model, before its first step (category models: the input
    /// standardisation from the training pairs). Not called on resume: the checkpoint holds the result.
    /// </summary>
    void Prepare(RetrievalModel model);

    /// <summary>Batches in one epoch of <paramref name="batchSize"/>.</summary>
    int BatchesPerEpoch(int batchSize);

    /// <summary>Captions (pairs) in the training split.</summary>
    int TrainingItems { get; }

    /// <summary>
    /// One epoch of batches from <paramref name="startBatch"/> on, shuffled by <paramref name="shuffle"/>; with several
    /// ranks, rank <paramref name="rank"/>'s share of each global batch (the permutation does not depend on the ranks).
    /// </summary>
    IEnumerable<IBatch> Epoch(int batchSize, Rng shuffle, int startBatch, int rank = 0, int ranks = 1);

    /// <summary>
    /// Validates <paramref name="model"/> (switched to evaluation mode for the duration, then back); with several
    /// <paramref name="ranks"/> the work is shared and every rank gets the same result.
    /// </summary>
    ValidationResult Validate(RetrievalModel model, ValidationMeasure measure, ICommunicator? ranks, CancellationToken cancellationToken);
}
