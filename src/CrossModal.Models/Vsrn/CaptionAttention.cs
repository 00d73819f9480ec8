using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// The decoder's additive attention (VSRN's models/Attention.py): score_j = linear2(tanh(linear1([enc_j; h]))),
/// encoder output first, linear2 without bias, softmax over the regions, context = Σ α_j enc_j. Its own
/// initialisation is commented out in the original, so both Linears keep PyTorch's default. The arithmetic lives in
/// <see cref="TeacherForcedDecoder"/> and <see cref="GreedyDecoder"/>, which split linear1 into its encoder half
/// (applied once per batch) and its state half (per step): the same numbers with far fewer products.
/// </summary>
internal sealed class CaptionAttention : Module
{
    public CaptionAttention(int dim, Rng rng)
    {
        Dim = dim;
        Linear1 = RegisterModule("linear1", new Linear(2 * dim, dim, rng));
        Linear2 = RegisterModule("linear2", new Linear(dim, 1, rng, bias: false));
    }

    /// <summary>The decoder's hidden size H.</summary>
    public int Dim { get; }

    /// <summary>[H, 2H] weight (columns 0..H-1 multiply the encoder output, H..2H-1 the decoder state), [H] bias.</summary>
    public Linear Linear1 { get; }

    /// <summary>[1, H] weight, no bias.</summary>
    public Linear Linear2 { get; }
}
