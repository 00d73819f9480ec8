using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;

namespace CrossModal.Tensors.Tests.Parity;

/// <summary>
/// Linear, Conv1d (kernel 1), BatchNorm1d (train and eval, [N, C] and [N, C, L]) and Embedding against PyTorch:
/// weights loaded by their state-dict names, outputs and all gradients (tolerance in <see cref="Parity"/>). The
/// layers are built outside the pooled scope, as parameters always are.
/// </summary>
public class LayerParityTests
{
    [Theory]
    [InlineData("linear_2d", false)]
    [InlineData("linear_2d", true)]
    [InlineData("linear_3d", false)]
    [InlineData("linear_3d", true)]
    [InlineData("linear_nobias", false)]
    [InlineData("linear_nobias", true)]
    public void Should_MatchPyTorch_Linear(string fixture, bool pooled)
    {
        var f = Parity.Load(fixture);
        var linear = new Linear(f.MetaInt("in_features"), f.MetaInt("out_features"), new Rng(0), bias: f.MetaBool("bias"));
        linear.LoadStateDict(f.Tensors, "linear.");
        using var scope = Parity.Scope(pooled);
        var x = f.Input("input");
        var y = linear.Forward(x);
        Tape.Backward(y, f.Get("grad_output"));
        f.Close("output", y);
        f.Close("grad.input", x.Grad);
        f.Close("grad.linear.weight", linear.Weight.Grad);
        if (linear.Bias is not null) f.Close("grad.linear.bias", linear.Bias.Grad);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_MatchPyTorch_Conv1dKernel1(bool pooled)
    {
        var f = Parity.Load("conv1d_k1");
        var conv = new Conv1d(f.MetaInt("in_channels"), f.MetaInt("out_channels"), new Rng(0));
        conv.LoadStateDict(f.Tensors, "conv.");
        using var scope = Parity.Scope(pooled);
        var x = f.Input("input");
        var y = conv.Forward(x);
        Tape.Backward(y, f.Get("grad_output"));
        f.Close("output", y);
        f.Close("grad.input", x.Grad);
        f.Close("grad.conv.weight", conv.Weight.Grad);
        f.Close("grad.conv.bias", conv.Bias!.Grad);
    }

    [Theory]
    [InlineData("batchnorm_train_2d", false)]
    [InlineData("batchnorm_train_2d", true)]
    [InlineData("batchnorm_train_3d", false)]
    [InlineData("batchnorm_train_3d", true)]
    [InlineData("batchnorm_eval_2d", false)]
    [InlineData("batchnorm_eval_2d", true)]
    [InlineData("batchnorm_eval_3d", false)]
    [InlineData("batchnorm_eval_3d", true)]
    public void Should_MatchPyTorch_BatchNorm1d(string fixture, bool pooled)
    {
        var f = Parity.Load(fixture);
        var bn = new BatchNorm1d(f.MetaInt("num_features"), f.MetaFloat("eps"), f.MetaFloat("momentum"));
        bn.LoadStateDict(f.Tensors, "bn."); // includes running statistics and num_batches_tracked = 3
        bn.Train(f.MetaBool("training"));
        using var scope = Parity.Scope(pooled);
        var x = f.Input("input");
        var y = bn.Forward(x);
        Tape.Backward(y, f.Get("grad_output"));
        f.Close("output", y);
        f.Close("grad.input", x.Grad);
        f.Close("grad.bn.weight", bn.Weight.Grad);
        f.Close("grad.bn.bias", bn.Bias.Grad);
        f.Close("after.bn.running_mean", bn.RunningMean);
        f.Close("after.bn.running_var", bn.RunningVar);
        f.Close("after.bn.num_batches_tracked", bn.NumBatchesTracked);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_MatchPyTorch_EmbeddingWithRepeatedIds(bool pooled)
    {
        var f = Parity.Load("embedding_repeated_ids");
        var emb = new Embedding(f.MetaInt("num_embeddings"), f.MetaInt("embedding_dim"), new Rng(0));
        emb.LoadStateDict(f.Tensors, "embedding.");
        using var scope = Parity.Scope(pooled);
        var idsTensor = f.Get("ids");
        var y = emb.Forward(f.Ints("ids"), idsTensor.Shape);
        Tape.Backward(y, f.Get("grad_output"));
        f.Close("output", y);
        f.Close("grad.embedding.weight", emb.Weight.Grad);
    }
}
