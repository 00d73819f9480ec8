namespace CrossModal.Data.Synthetic;

/// <summary>A synthetic scene: 1-5 objects on a background; <see cref="TwinOf"/> names the scene it was derived from
/// by swapping attributes between objects (the hard negative that needs attribute binding), or is null.</summary>
internal sealed record Scene(string Id, int Background, SceneObject[] Objects, string? TwinOf, string? TwinKind);
