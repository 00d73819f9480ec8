using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;

namespace CrossModal.Tensors.Tests.Parity;

/// <summary>
/// Gru against torch.nn.GRU(batch_first=True) fed through pack_padded_sequence / pad_packed_sequence: outputs,
/// final states and every gradient for random upstream gradients of both (tolerance in <see cref="Parity"/>).
/// The fixtures' padded input positions hold random values that both must ignore.
/// </summary>
public class GruParityTests
{
    [Theory]
    [InlineData("gru_l1_uni_unsorted")]
    [InlineData("gru_l1_uni_sorted")]
    [InlineData("gru_l1_bi_unsorted")]
    [InlineData("gru_l1_bi_sorted")]
    [InlineData("gru_l2_uni_unsorted")]
    [InlineData("gru_l2_uni_sorted")]
    [InlineData("gru_l2_bi_unsorted")]
    [InlineData("gru_l2_bi_sorted")]
    [InlineData("gru_l2_bi_h0")]
    public void Should_MatchPyTorch_PackedGru(string fixture)
    {
        var f = Parity.Load(fixture);
        var gru = new Gru(f.MetaInt("input_size"), f.MetaInt("hidden_size"), new Rng(0),
            numLayers: f.MetaInt("num_layers"), bidirectional: f.MetaBool("bidirectional"));
        gru.LoadStateDict(f.Tensors, "gru."); // strict: exactly PyTorch's names and shapes
        var x = f.Input("input");
        var lengths = f.Ints("lengths");
        var h0 = f.MetaBool("with_h0") ? f.Input("h0") : null;

        var (output, hidden) = gru.Forward(x, lengths, h0);
        var loss = Ops.Add(Ops.SumAll(Ops.Mul(output, f.Get("grad_output"))), Ops.SumAll(Ops.Mul(hidden, f.Get("grad_h_n"))));
        Tape.Backward(loss);

        f.Close("output", output);
        f.Close("h_n", hidden);
        f.Close("grad.input", x.Grad);
        if (h0 is not null) f.Close("grad.h0", h0.Grad);
        int compared = 0;
        foreach (var (name, p) in gru.NamedParameters())
        {
            f.Close("grad.gru." + name, p.Grad);
            compared++;
        }
        Assert.Equal(f.MetaInt("num_layers") * (f.MetaBool("bidirectional") ? 2 : 1) * 4, compared);
    }
}
