using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models;

/// <summary>
/// What every model family shares: the configuration it was built from (and so its family), the PyTorch-named
/// parameters and buffers of <see cref="Module"/>, and <see cref="Noise"/>, the generator of everything random the
/// model draws while training (dropout masks). The trainer saves and restores <see cref="Noise"/>'s state with every
/// checkpoint, so a resumed run draws the same masks as an uninterrupted one.
/// </summary>
public abstract class RetrievalModel : Module
{
    /// <summary>Creates the model for <paramref name="config"/> (validated here).</summary>
    protected RetrievalModel(ModelConfig config)
    {
        config.Validate();
        Config = config;
    }

    /// <summary>The configuration the model was built from.</summary>
    public ModelConfig Config { get; }

    /// <summary>The family the configuration names.</summary>
    public ModelFamily Family => Config.Family;

    /// <summary>
    /// The model's own generator for training-time randomness (dropout). Layers that need it take this instance
    /// when they are built; its state, not its seed, is what a checkpoint stores.
    /// </summary>
    public Rng Noise { get; } = new(0);
}
