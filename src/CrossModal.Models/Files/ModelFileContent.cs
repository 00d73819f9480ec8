using CrossModal.Tensors;

namespace CrossModal.Models.Files;

/// <summary>What a model file holds (see <see cref="ModelFile"/>).</summary>
/// <param name="Path">The file.</param>
/// <param name="Config">The model configuration.</param>
/// <param name="ModelTensors">The model's state dict.</param>
/// <param name="VocabJson">The vocabulary the word ids refer to, if stored.</param>
/// <param name="TrainingTensors">Training state (optimizers) without the "optimizer." prefix; empty for a model-only file.</param>
/// <param name="Metadata">Every metadata entry.</param>
public sealed record ModelFileContent(
    string Path,
    ModelConfig Config,
    IReadOnlyDictionary<string, Tensor> ModelTensors,
    string? VocabJson,
    IReadOnlyDictionary<string, Tensor> TrainingTensors,
    IReadOnlyDictionary<string, string> Metadata);
