using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Acmr;

/// <summary>
/// The modality discriminator: from a code, the logit that it came from an image (fully connected: fc1 to half the
/// code width, ReLU, fc2 to one logit; trained with the sigmoid cross-entropy, images labelled 1 and texts 0).
/// </summary>
public sealed class ModalityDiscriminator : Module
{
    private readonly Linear _fc1, _fc2;

    /// <summary>Creates the discriminator for codes of width <paramref name="codes"/>.</summary>
    public ModalityDiscriminator(int codes, Rng rng)
    {
        int hidden = Math.Max(2, codes / 2);
        _fc1 = RegisterModule("fc1", new Linear(codes, hidden, rng));
        _fc2 = RegisterModule("fc2", new Linear(hidden, 1, rng));
    }

    /// <summary>Logits [B, 1] of codes [B, codes].</summary>
    public Tensor Forward(Tensor codes) => _fc2.Forward(Ops.Relu(_fc1.Forward(codes)));
}
