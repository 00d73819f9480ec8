using CrossModal.Models;
using CrossModal.Tensors;

namespace CrossModal.Training;

/// <summary>What a checkpoint holds (see <see cref="Checkpoint"/>).</summary>
public sealed record CheckpointContent(
    string Path,
    ModelConfig Config,
    IReadOnlyDictionary<string, Tensor> ModelTensors,
    string? VocabJson,
    IReadOnlyDictionary<string, Tensor> OptimizerTensors,
    long OptimizerStep,
    TrainOptions? Options,
    TrainState? State);
