namespace CrossModal.Tensors.Nn;

/// <summary>
/// torch.nn.Conv1d with kernel size 1 on [B, in, L]: a per-position linear map. Parameters "weight" [out, in, 1],
/// "bias" [out], PyTorch's default initialisation.
/// </summary>
public sealed class Conv1d : Module
{
    /// <summary>Creates the layer.</summary>
    public Conv1d(int inChannels, int outChannels, Rng rng, bool bias = true)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        Weight = RegisterParameter("weight", Tensor.Zeros(outChannels, inChannels, 1));
        Init.DefaultWeight(Weight, rng);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Zeros(outChannels));
            Init.Uniform(Bias, 1f / MathF.Sqrt(inChannels), rng);
        }
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>[out, in, 1].</summary>
    public Tensor Weight { get; }

    /// <summary>[out] or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>
    /// The same map on the transposed layout: x [..., in] with one position per row (e.g. [B, L, in]) gives
    /// [..., out], as one GEMM over all positions. A caller that keeps its [B, C, L] tensors as [B, L, C] (VSRN's
    /// GCN over regions) never transposes.
    /// </summary>
    public Tensor ForwardRows(Tensor x)
    {
        if (x.Rank < 1 || x.Dim(-1) != InChannels)
            throw new ArgumentException($"Conv1d({InChannels}->{OutChannels}): input {Tensor.FormatShape(x.ShapeSpan)} does not end in {InChannels} channels.");
        return Ops.Linear(x, Weight.Reshape(OutChannels, InChannels), Bias);
    }

    /// <summary>Applies the layer to x [B, in, L] giving [B, out, L].</summary>
    public Tensor Forward(Tensor x)
    {
        if (x.Rank != 3 || x.Dim(1) != InChannels)
            throw new ArgumentException($"Conv1d({InChannels}->{OutChannels}): input {Tensor.FormatShape(x.ShapeSpan)} is not [B, {InChannels}, L].");
        var w = Weight.Reshape(1, OutChannels, InChannels);
        var y = Ops.BatchedMatMul(w, x);
        return Bias is null ? y : Ops.Add(y, Bias.Reshape(1, OutChannels, 1));
    }
}
