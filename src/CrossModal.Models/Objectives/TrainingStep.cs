using CrossModal.Distributed;
using CrossModal.Tensors;

namespace CrossModal.Models.Objectives;

/// <summary>
/// Where a training step stands: the 0-based epoch, the 1-based iteration over the whole run, an optional hook
/// called between the backward pass and the optimizer step with the parameters about to be updated (data-parallel
/// training all-reduces their gradients there), in data-parallel training the ranks sharing the global batch
/// (null in one process; the batch then carries its <see cref="Data.Batch.Shard"/>), and an optional hook called
/// before the forward pass with the same parameters, whose result the step disposes at its end (data-parallel
/// training starts all-reducing gradients during the backward from there: <see cref="GradientReducer.Overlap"/>).
/// </summary>
public readonly record struct TrainingStep(int Epoch, long Iteration, Action<IReadOnlyList<Tensor>>? AfterBackward = null, ICommunicator? Ranks = null,
    Func<IReadOnlyList<Tensor>, IDisposable?>? BeforeForward = null);
