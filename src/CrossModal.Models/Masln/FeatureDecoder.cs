using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Masln;

/// <summary>
/// One modality's decoder: from a code concatenated with the class embedding of the item's class, fc1 (to hidden),
/// ReLU, fc2 (to the modality's standardised features, linear: standardised features are unbounded).
/// </summary>
public sealed class FeatureDecoder : Module
{
    private readonly Linear _fc1, _fc2;

    /// <summary>Creates the decoder with PyTorch's default initialisation.</summary>
    public FeatureDecoder(int inputs, int hidden, int outputs, Rng rng)
    {
        _fc1 = RegisterModule("fc1", new Linear(inputs, hidden, rng));
        _fc2 = RegisterModule("fc2", new Linear(hidden, outputs, rng));
    }

    /// <summary>Reconstructed standardised features [B, outputs] of decoder inputs [B, inputs].</summary>
    public Tensor Forward(Tensor x) => _fc2.Forward(Ops.Relu(_fc1.Forward(x)));
}
