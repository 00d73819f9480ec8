using CrossModal.Models.Files;

namespace CrossModal.Training;

/// <summary>What a training checkpoint holds (see <see cref="Checkpoint"/>).</summary>
/// <param name="File">The model file: configuration, state dict, vocabulary, training tensors, metadata.</param>
/// <param name="Options">The run's options, when saved by the trainer.</param>
/// <param name="State">Where the run stood, when saved by the trainer.</param>
/// <param name="OptimizerSteps">Each optimizer's step count, by name (empty for a model-only file).</param>
public sealed record TrainingCheckpoint(ModelFileContent File, TrainOptions? Options, TrainState? State, IReadOnlyDictionary<string, long> OptimizerSteps);
