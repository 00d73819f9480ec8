using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// The caption branch's encoder (VSRN's models/EncoderRNN.py): vid2hid = Linear(dim_vid -> dim_hidden) with a
/// Xavier-normal weight (default bias) on every GCN region, dropout on its output, a GRU over the regions; its
/// outputs are what the decoder attends to and its final state starts the decoder. The GRU is built with
/// dropout 0.5 in the original, which PyTorch ignores for one layer. State: vid2hid.*, rnn.*_l0.
/// </summary>
internal sealed class CaptionEncoder : Module
{
    private readonly Linear _vid2hid;
    private readonly Gru _rnn;

    public CaptionEncoder(int dimVid, int dimHidden, Rng rng)
    {
        _vid2hid = RegisterModule("vid2hid", new Linear(dimVid, dimHidden, rng));
        _rnn = RegisterModule("rnn", new Gru(dimHidden, dimHidden, rng));
        Init.XavierNormal(_vid2hid.Weight, rng);
    }

    /// <summary>
    /// GCN regions [B, N, dim_vid] to the encoder outputs [B, N, H] and final state [B, H]; dropout when given, its
    /// mask drawn for the whole global batch when the rows are a rank's share of one (<paramref name="global"/>).
    /// </summary>
    public (Tensor Outputs, Tensor Hidden) Forward(Tensor regions, DropoutMasks? dropout, GlobalBatchRows? global = null)
    {
        int b = regions.Dim(0), n = regions.Dim(1), h = _rnn.HiddenSize;
        var x = _vid2hid.Forward(regions);
        if (dropout is { P: > 0f })
        {
            var mask = Tensor.Empty(b, n, h);
            if (global is null) dropout.Fill(mask.Data);
            else dropout.FillRows(mask.Data, n * h, global.Rows, global.Layout.Rows);
            x = Ops.Mul(x, mask);
        }
        var lengths = new int[b];
        Array.Fill(lengths, n);
        var (outputs, hidden) = _rnn.Forward(x, lengths);
        return (outputs, hidden.Reshape(b, h));
    }
}
