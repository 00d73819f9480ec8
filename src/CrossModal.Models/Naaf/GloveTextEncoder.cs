using CrossModal.Models.Attention;
using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Naaf;

/// <summary>
/// NAAF's GloveRNNEncoder: the GloVe table (<c>embed.glove.weight</c>), a bidirectional GRU (<c>rnn.*</c>) over the
/// packed caption, directions averaged, each word L2-normalised x / (‖x‖ + 1e-8) (always: the original hard-codes
/// no_txtnorm False for it).
/// </summary>
public sealed class GloveTextEncoder : Module
{
    private readonly Gru _rnn;

    /// <summary>Creates the encoder (the table is random until <see cref="GloveTable.CopyTo"/> fills it).</summary>
    public GloveTextEncoder(int vocabSize, int wordDim, int embedSize, int numLayers, Rng rng)
    {
        Embed = RegisterModule("embed", new GloveEmbedding(vocabSize, wordDim, rng));
        _rnn = RegisterModule("rnn", new Gru(wordDim, embedSize, rng, numLayers, bidirectional: true));
    }

    /// <summary>The embedding module (its child "glove" holds the table).</summary>
    public GloveEmbedding Embed { get; }

    /// <summary>Encodes token ids [B * maxLength] (zero-padded) with true lengths to [B, maxLength, E].</summary>
    public Tensor Forward(int[] tokens, int[] lengths, int maxLength)
    {
        int b = lengths.Length;
        if (tokens.Length != b * maxLength) throw new ArgumentException($"{tokens.Length} token ids for {b} captions of {maxLength}.");
        var x = Embed.Glove.Forward(tokens, b, maxLength);
        var (output, _) = _rnn.Forward(x, lengths);
        int h = _rnn.HiddenSize;
        var y = Ops.MulScalar(Ops.Add(Ops.Narrow(output, 2, 0, h), Ops.Narrow(output, 2, h, h)), 0.5f);
        return Ops.L2Normalize(y, -1, AttentionStages.Eps);
    }
}
