using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// The caption branch's decoder (VSRN's models/DecoderRNN.py) as parameters: embedding (V x dim_word, PyTorch's
/// N(0, 1)), the additive attention (linear1, linear2), rnn = a one-layer GRU (dim_word + H -> H) run one step at a
/// time (names *_l0), out = Linear(H -> V) with a Xavier-normal weight (default bias). The computation is in
/// <see cref="TeacherForcedDecoder"/> (training) and <see cref="GreedyDecoder"/> (captioning).
/// </summary>
internal sealed class CaptionDecoder : Module
{
    public CaptionDecoder(int vocabSize, int dimHidden, int dimWord, Rng rng)
    {
        VocabSize = vocabSize;
        HiddenSize = dimHidden;
        WordSize = dimWord;
        Embedding = RegisterModule("embedding", new Embedding(vocabSize, dimWord, rng));
        Attention = RegisterModule("attention", new CaptionAttention(dimHidden, rng));
        Rnn = RegisterModule("rnn", new GruCell(dimWord + dimHidden, dimHidden, rng, suffix: "_l0"));
        Out = RegisterModule("out", new Linear(dimHidden, vocabSize, rng));
        Init.XavierNormal(Out.Weight, rng);
    }

    /// <summary>V.</summary>
    public int VocabSize { get; }

    /// <summary>H (dim_hidden).</summary>
    public int HiddenSize { get; }

    /// <summary>dim_word.</summary>
    public int WordSize { get; }

    /// <summary>The word embedding.</summary>
    public Embedding Embedding { get; }

    /// <summary>The attention over the encoder outputs.</summary>
    public CaptionAttention Attention { get; }

    /// <summary>The recurrent cell; its input is [word embedding; context].</summary>
    public GruCell Rnn { get; }

    /// <summary>The output layer (log-softmax follows).</summary>
    public Linear Out { get; }
}
