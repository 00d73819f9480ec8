using CrossModal.Tensors;

namespace CrossModal.Models.Acmr;

/// <summary>The loss terms of the adversarial category models, each a differentiable scalar (a mean over the batch).</summary>
public static class CategoryLosses
{
    /// <summary>Mean over pairs of the squared Euclidean distance between paired codes [B, E]: sum_j (a_ij - b_ij)^2 / B.</summary>
    public static Tensor PairDistance(Tensor a, Tensor b)
    {
        var d = Ops.Sub(a, b);
        return Ops.MulScalar(Ops.SumAll(Ops.Mul(d, d)), 1f / a.Dim(0));
    }

    /// <summary>Mean softmax cross-entropy of logits [B, K] against class indices (torch.nn.functional.cross_entropy).</summary>
    public static Tensor CrossEntropy(Tensor logits, ReadOnlySpan<int> labels)
    {
        int b = logits.Dim(0), k = logits.Dim(1);
        if (labels.Length != b) throw new ArgumentException($"{labels.Length} labels for {b} rows of logits.");
        var onehot = Tensor.Zeros(b, k);
        for (int i = 0; i < b; i++)
        {
            if ((uint)labels[i] >= (uint)k) throw new ArgumentException($"Label {labels[i]} of row {i} is outside the {k} classes.");
            onehot.Data[i * k + labels[i]] = 1f;
        }
        return Ops.MulScalar(Ops.SumAll(Ops.Mul(Ops.LogSoftmax(logits, 1), onehot)), -1f / b);
    }

    /// <summary>
    /// Mean sigmoid cross-entropy of logits [B, 1] against one target t in {0, 1} for every row
    /// (torch.nn.functional.binary_cross_entropy_with_logits): log(1 + e^z) - t z, computed as logsumexp(0, z) - t z,
    /// which is exact for any z.
    /// </summary>
    public static Tensor SigmoidCrossEntropy(Tensor logits, float target)
    {
        int b = logits.Dim(0);
        var zeroAndLogit = Ops.Concat([Tensor.Zeros(b, 1), logits], 1);
        var softplus = Ops.LogSumExp(zeroAndLogit, 1);
        var loss = target == 0f ? Ops.SumAll(softplus) : Ops.Sub(Ops.SumAll(softplus), Ops.MulScalar(Ops.SumAll(logits), target));
        return Ops.MulScalar(loss, 1f / b);
    }
}
