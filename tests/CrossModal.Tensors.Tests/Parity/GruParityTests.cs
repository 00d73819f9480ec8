using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;

namespace CrossModal.Tensors.Tests.Parity;

/// <summary>
/// Gru against torch.nn.GRU(batch_first=True) fed through pack_padded_sequence / pad_packed_sequence: outputs,
/// final states and every gradient for random upstream gradients of both (tolerance in <see cref="Parity"/>).
/// The fixtures' padded input positions hold random values that both must ignore. Each case also runs inside a
/// pooled scope with NaN-poisoned buffers, and once more without recording (the evaluation path).
/// </summary>
public class GruParityTests
{
    private static readonly string[] Fixtures =
    {
        "gru_l1_uni_unsorted", "gru_l1_uni_sorted", "gru_l1_bi_unsorted", "gru_l1_bi_sorted",
        "gru_l2_uni_unsorted", "gru_l2_uni_sorted", "gru_l2_bi_unsorted", "gru_l2_bi_sorted", "gru_l2_bi_h0", "gru_l1_bi_wide",
    };

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var f in Fixtures)
        {
            data.Add(f, false);
            data.Add(f, true);
        }
        return data;
    }

    private static Gru Load(IO.SafetensorsFile f)
    {
        var gru = new Gru(f.MetaInt("input_size"), f.MetaInt("hidden_size"), new Rng(0),
            numLayers: f.MetaInt("num_layers"), bidirectional: f.MetaBool("bidirectional"));
        gru.LoadStateDict(f.Tensors, "gru."); // strict: exactly PyTorch's names and shapes
        return gru;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Should_MatchPyTorch_PackedGru(string fixture, bool pooled)
    {
        var f = Parity.Load(fixture);
        var gru = Load(f);
        using var scope = Parity.Scope(pooled);
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

    [Theory]
    [MemberData(nameof(Cases))]
    public void Should_MatchPyTorch_WithoutRecording(string fixture, bool pooled)
    {
        var f = Parity.Load(fixture);
        var gru = Load(f);
        using var scope = Parity.Scope(pooled);
        using var noGrad = Tape.NoGrad();
        var (output, hidden) = gru.Forward(f.Get("input"), f.Ints("lengths"), f.MetaBool("with_h0") ? f.Get("h0") : null);
        Assert.False(output.RequiresGrad);
        f.Close("output", output);
        f.Close("h_n", hidden);
    }
}
