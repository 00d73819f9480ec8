using CrossModal.Tensors;

namespace CrossModal.Models.Files;

/// <summary>
/// An original checkpoint translated by its family: the configuration its options describe and its weights under
/// the names of the family's model (e.g. SCAN's <c>fc.weight</c> of the image state dict becomes <c>img_enc.fc.weight</c>).
/// </summary>
public sealed record ImportedModel(ModelConfig Config, IReadOnlyDictionary<string, Tensor> State);
