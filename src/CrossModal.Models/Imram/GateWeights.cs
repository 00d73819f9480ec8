using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Imram;

/// <summary>
/// One direction's memory layers (linear_* and gate_*, each Linear(2d → d) on z = [query; attended]) rearranged for
/// the scorer: <see cref="Query"/> [2d, d] holds the columns that act on the query (rows 0..d−1 from the linear layer,
/// d..2d−1 from the gate), <see cref="Attended"/> [2d, d] the columns that act on the attended vector, and
/// <see cref="Bias"/> [2d] both biases. Splitting W z = W_q q + W_c c lets the scorer apply W_c once per context item
/// instead of once per attended vector (c = αᵀ C, so W_c c = αᵀ (C W_cᵀ)).
/// </summary>
internal sealed class GateWeights
{
    private GateWeights(Linear linear, Linear gate, int d)
    {
        Linear = linear;
        Gate = gate;
        D = d;
        Query = new float[2 * d * d];
        Attended = new float[2 * d * d];
        Bias = new float[2 * d];
        for (int layer = 0; layer < 2; layer++)
        {
            var lin = layer == 0 ? linear : gate;
            var w = lin.Weight.Data;
            for (int j = 0; j < d; j++)
            {
                w.Slice(j * 2 * d, d).CopyTo(Query.AsSpan((layer * d + j) * d, d));
                w.Slice(j * 2 * d + d, d).CopyTo(Attended.AsSpan((layer * d + j) * d, d));
            }
            lin.Bias!.Data.CopyTo(Bias.AsSpan(layer * d, d));
        }
    }

    /// <summary>The linear layer (linear_t2i or linear_i2t).</summary>
    public Linear Linear { get; }

    /// <summary>The gate layer (gate_t2i or gate_i2t).</summary>
    public Linear Gate { get; }

    /// <summary>Embedding size.</summary>
    public int D { get; }

    /// <summary>[2d, d]: the query half of both layers' weights.</summary>
    public float[] Query { get; }

    /// <summary>[2d, d]: the attended half of both layers' weights.</summary>
    public float[] Attended { get; }

    /// <summary>[2d]: the linear layer's bias, then the gate's.</summary>
    public float[] Bias { get; }

    /// <summary>The current weights of the two layers.</summary>
    public static GateWeights Of(Linear linear, Linear gate)
    {
        int d = linear.OutFeatures;
        if (linear.InFeatures != 2 * d || gate.InFeatures != 2 * d || gate.OutFeatures != d || linear.Bias is null || gate.Bias is null)
            throw new ArgumentException($"IMRAM's memory layers must be Linear(2d -> d) with bias; got {linear.InFeatures} -> {linear.OutFeatures} and {gate.InFeatures} -> {gate.OutFeatures}.");
        return new GateWeights(linear, gate, d);
    }

    /// <summary>Adds gradients in the split layout (dQuery, dAttended [2d, d], dBias [2d]) to the two layers' parameters.</summary>
    public void AccumulateGradients(ReadOnlySpan<float> dQuery, ReadOnlySpan<float> dAttended, ReadOnlySpan<float> dBias)
    {
        int d = D;
        var dw = new float[2 * d * d];
        for (int layer = 0; layer < 2; layer++)
        {
            var lin = layer == 0 ? Linear : Gate;
            for (int j = 0; j < d; j++)
            {
                dQuery.Slice((layer * d + j) * d, d).CopyTo(dw.AsSpan(j * 2 * d, d));
                dAttended.Slice((layer * d + j) * d, d).CopyTo(dw.AsSpan(j * 2 * d + d, d));
            }
            if (lin.Weight.RequiresGrad) lin.Weight.AccumulateGrad(dw);
            if (lin.Bias!.RequiresGrad) lin.Bias.AccumulateGrad(dBias.Slice(layer * d, d));
        }
    }
}
