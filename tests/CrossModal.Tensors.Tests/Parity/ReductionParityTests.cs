using CrossModal.Tensors.Autograd;
using static CrossModal.Tensors.Ops;

namespace CrossModal.Tensors.Tests.Parity;

/// <summary>
/// softmax, log_softmax, logsumexp, max and the field's l2norm x / (||x|| + eps) along every axis of a [3, 4, 5]
/// tensor, chains of them, and SCAN's text-to-image attention, against PyTorch (tolerance in <see cref="Parity"/>).
/// </summary>
public class ReductionParityTests
{
    public static TheoryData<string, int, bool> OpsAndAxes()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (var op in new[] { "softmax", "log_softmax", "logsumexp", "logsumexp_keepdim", "l2norm", "l2norm_eps0", "max" })
            foreach (int axis in new[] { 0, 1, 2, -1 })
                foreach (bool pooled in new[] { false, true })
                    data.Add(op, axis, pooled);
        return data;
    }

    private static Tensor Apply(string op, Tensor x, int axis) => op switch
    {
        "softmax" => Softmax(x, axis),
        "log_softmax" => LogSoftmax(x, axis),
        "logsumexp" => LogSumExp(x, axis),
        "logsumexp_keepdim" => LogSumExp(x, axis, keepDim: true),
        "l2norm" => L2Normalize(x, axis, 1e-8f),
        "l2norm_eps0" => L2Normalize(x, axis, 0f),
        "max" => Max(x, axis).Values,
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [MemberData(nameof(OpsAndAxes))]
    public void Should_MatchPyTorch_AlongEachAxis(string op, int axis, bool pooled)
    {
        var f = Parity.Load("reductions");
        using var scope = Parity.Scope(pooled);
        var x = f.Input("input");
        var y = Apply(op, x, axis);
        Tape.Backward(y, f.Get($"{op}.{axis}.grad_output"));
        f.Close($"{op}.{axis}.output", y);
        f.Close($"{op}.{axis}.grad.input", x.Grad);
    }

    /// <summary>Zero lines: x / (||x|| + eps) is 0 there and its gradient is g / eps, as in PyTorch.</summary>
    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    public void Should_MatchPyTorch_L2NormalizeOfZeroLines(int axis, bool pooled)
    {
        var f = Parity.Load("reductions");
        using var scope = Parity.Scope(pooled);
        var x = f.Input($"l2norm_zero.{axis}.input");
        var y = L2Normalize(x, axis, 1e-8f);
        Tape.Backward(y, f.Get($"l2norm_zero.{axis}.grad_output"));
        f.Close($"l2norm_zero.{axis}.output", y);
        f.Close($"l2norm_zero.{axis}.grad.input", x.Grad);
    }

    [Theory]
    [InlineData("chain_a", false)]
    [InlineData("chain_a", true)]
    [InlineData("chain_b", false)]
    [InlineData("chain_b", true)]
    [InlineData("chain_c", false)]
    [InlineData("chain_c", true)]
    public void Should_MatchPyTorch_Chains(string chain, bool pooled)
    {
        var f = Parity.Load("reductions");
        using var scope = Parity.Scope(pooled);
        var x = f.Input("input");
        var y = chain switch
        {
            // logsumexp(log_softmax(4 l2norm(x, 2), 1), 0)
            "chain_a" => LogSumExp(LogSoftmax(MulScalar(L2Normalize(x, 2), 4f), 1), 0),
            // softmax(9 l2norm(x, 0), 2) * log_softmax(x, 1)
            "chain_b" => Mul(Softmax(MulScalar(L2Normalize(x, 0), 9f), 2), LogSoftmax(x, 1)),
            // l2norm(logsumexp(6 x, 1, keepdim) / 6 + softmax(x, 0), 1)
            _ => L2Normalize(Add(MulScalar(LogSumExp(MulScalar(x, 6f), 1, keepDim: true), 1f / 6f), Softmax(x, 0)), 1),
        };
        Tape.Backward(y, f.Get($"{chain}.grad_output"));
        f.Close($"{chain}.output", y);
        f.Close($"{chain}.grad.input", x.Grad);
    }

    /// <summary>
    /// SCAN t2i for one caption against every image. The fixture runs SCAN's own formulation (repeat the caption,
    /// bmm, transposes, softmax on a [n*W, R] view, cosine_similarity, log(sum(exp))); here the same mathematics is
    /// written without transposes: the caption broadcasts over the batch, softmax runs along the region axis.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_MatchPyTorch_ScanAttention(bool pooled)
    {
        var f = Parity.Load("scan_attention");
        using var scope = Parity.Scope(pooled);
        float lambdaSoftmax = f.MetaFloat("lambda_softmax"), lambdaLse = f.MetaFloat("lambda_lse");
        var images = f.Input("images");   // [n, R, d]
        var caption = f.Input("caption"); // [1, W, d]
        var attn = BatchedMatMul(images, caption, transB: true);            // [n, R, W]
        attn = LeakyRelu(attn, f.MetaFloat("leaky_slope"));
        attn = L2Normalize(attn, 2, f.MetaFloat("eps"));
        attn = Softmax(MulScalar(attn, lambdaSoftmax), 1);                  // over regions
        var weighted = BatchedMatMul(attn, images, transA: true);           // [n, W, d]
        var rowSim = Sum(Mul(L2Normalize(caption, 2, 0f), L2Normalize(weighted, 2, 0f)), 2); // cosine, [n, W]
        var sim = MulScalar(LogSumExp(MulScalar(rowSim, lambdaLse), 1, keepDim: true), 1f / lambdaLse);
        var loss = Add(SumAll(Mul(weighted, f.Get("grad_weighted"))), SumAll(Mul(sim, f.Get("grad_sim"))));
        using (Tape.NoGrad()) f.Close("attention", Transpose(attn, 1, 2));
        Tape.Backward(loss);
        f.Close("weighted", weighted);
        f.Close("sim", sim);
        f.Close("grad.images", images.Grad);
        f.Close("grad.caption", caption.Grad);
    }
}
