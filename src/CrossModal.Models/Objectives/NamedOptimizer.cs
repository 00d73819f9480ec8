using CrossModal.Tensors.Optim;

namespace CrossModal.Models.Objectives;

/// <summary>
/// One of an objective's optimizers: its name in checkpoints ("adam"; "generator" and "discriminator" for an
/// adversarial model), the optimizer, and the learning rate its step decay starts from.
/// </summary>
public sealed record NamedOptimizer(string Name, Optimizer Optimizer, float InitialLearningRate);
