using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Encoders;

/// <summary>
/// The GRU text encoder of VSE++ and SCAN (EncoderText): Embedding(V, word_dim) initialised U(-0.1, 0.1), a GRU
/// over the packed caption, then either the state at the last valid step (VSE++; with a bidirectional GRU the two
/// directions' final states are averaged) or one vector per word (SCAN; bidirectional outputs averaged,
/// (forward + backward) / 2), each L2-normalised x / (‖x‖ + eps) unless disabled.
/// Parameters: "embed.weight", "rnn.weight_ih_l0", ... (PyTorch names).
/// </summary>
public sealed class TextEncoderGru : Module
{
    private readonly Embedding _embed;
    private readonly Gru _rnn;

    /// <summary>Creates the encoder.</summary>
    public TextEncoderGru(int vocabSize, int wordDim, int embedSize, int numLayers, bool bidirectional, bool perWord, bool noTxtNorm, float eps, Rng rng)
    {
        _embed = RegisterModule("embed", new Embedding(vocabSize, wordDim, rng));
        Init.Uniform(_embed.Weight, 0.1f, rng);
        _rnn = RegisterModule("rnn", new Gru(wordDim, embedSize, rng, numLayers, bidirectional));
        PerWord = perWord;
        NoTxtNorm = noTxtNorm;
        Eps = eps;
    }

    /// <summary>One vector per word (SCAN) instead of one per caption (VSE++).</summary>
    public bool PerWord { get; }

    /// <summary>Whether the L2 normalisation is skipped.</summary>
    public bool NoTxtNorm { get; }

    /// <summary>Added to the norm.</summary>
    public float Eps { get; }

    /// <summary>The word embedding table.</summary>
    public Embedding Embed => _embed;

    /// <summary>Encodes token ids [B * maxLength] (zero-padded) with true lengths: [B, E] or [B, maxLength, E].</summary>
    public Tensor Forward(int[] tokens, int[] lengths, int maxLength)
    {
        int b = lengths.Length;
        if (tokens.Length != b * maxLength) throw new ArgumentException($"{tokens.Length} token ids for {b} captions of {maxLength}.");
        MarkForward();
        var x = _embed.Forward(tokens, b, maxLength);
        var (output, hidden) = _rnn.Forward(x, lengths);
        int h = _rnn.HiddenSize;
        Tensor y;
        if (PerWord)
        {
            y = _rnn.Bidirectional
                ? Ops.MulScalar(Ops.Add(Ops.Narrow(output, 2, 0, h), Ops.Narrow(output, 2, h, h)), 0.5f)
                : output;
        }
        else
        {
            int d = _rnn.Directions, last = (_rnn.NumLayers - 1) * d;
            y = Ops.Narrow(hidden, 0, last, 1).Reshape(b, h);
            if (d == 2) y = Ops.MulScalar(Ops.Add(y, Ops.Narrow(hidden, 0, last + 1, 1).Reshape(b, h)), 0.5f);
        }
        return NoTxtNorm ? y : Ops.L2Normalize(y, -1, Eps);
    }
}
