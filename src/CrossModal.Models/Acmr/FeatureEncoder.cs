using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Acmr;

/// <summary>
/// One modality's encoder into the common code layer: fc1 (features to hidden), ReLU, dropout, fc2 (hidden to
/// code), tanh. The tanh bounds the codes, so the squared-distance pull between paired codes cannot win by
/// shrinking or inflating them (ACMR's projectors end in tanh for the same reason).
/// </summary>
public sealed class FeatureEncoder : Module
{
    private readonly Linear _fc1, _fc2;
    private readonly Dropout _dropout;

    /// <summary>Creates the encoder with PyTorch's default initialisation from <paramref name="rng"/>; dropout masks come from <paramref name="noise"/>.</summary>
    public FeatureEncoder(int inputs, int hidden, int codes, float dropout, Rng rng, Rng noise)
    {
        _fc1 = RegisterModule("fc1", new Linear(inputs, hidden, rng));
        _fc2 = RegisterModule("fc2", new Linear(hidden, codes, rng));
        _dropout = RegisterModule("dropout", new Dropout(dropout, noise));
    }

    /// <summary>Codes [B, codes] of standardised features [B, inputs].</summary>
    public Tensor Forward(Tensor x) => Ops.Tanh(_fc2.Forward(_dropout.Forward(Ops.Relu(_fc1.Forward(x)))));
}
