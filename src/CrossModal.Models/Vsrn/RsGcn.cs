using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// One residual region-relation block of VSRN (GCN_lib/Rs_GCN.py with inter_channels = in_channels and the
/// BatchNorm W): on the regions v of an image, g, θ, φ are 1x1 convolutions; R = θ(v)ᵀ φ(v) / N (no softmax);
/// y = R g(v); the output is BN(W(y)) + v, where W is a 1x1 convolution followed by BatchNorm1d over the channels
/// (statistics over the images and regions together). The original keeps [B, D, N]; here the same numbers are kept
/// as [B, N, D], so every 1x1 convolution is one GEMM over all B·N regions and the BatchNorm is the [B·N, D] one.
/// State-dict order as the original registers the modules: g, W.0 (conv), W.1 (BN), theta, phi; the BN's weight and
/// bias start at 0, so a fresh block is the identity.
/// </summary>
internal sealed class RsGcn : Module
{
    private readonly Conv1d _g, _w, _theta, _phi;
    private readonly BatchNorm1d _bn;

    public RsGcn(int channels, Rng rng)
    {
        Channels = channels;
        _g = RegisterModule("g", new Conv1d(channels, channels, rng));
        _w = RegisterModule("W.0", new Conv1d(channels, channels, rng));
        _bn = RegisterModule("W.1", new BatchNorm1d(channels));
        _bn.Weight.Data.Clear();
        _bn.Bias.Data.Clear();
        _theta = RegisterModule("theta", new Conv1d(channels, channels, rng));
        _phi = RegisterModule("phi", new Conv1d(channels, channels, rng));
    }

    /// <summary>Channels (embed_size).</summary>
    public int Channels { get; }

    /// <summary>This block with its weights folded for evaluation (<see cref="FoldedRsGcn"/>): call in evaluation mode, once the weights are final.</summary>
    public FoldedRsGcn Fold() => new(_g, _w, _bn, _theta, _phi);

    /// <summary>Regions [B, N, D] to [B, N, D].</summary>
    public Tensor Forward(Tensor v)
    {
        int b = v.Dim(0), n = v.Dim(1), d = Channels;
        MarkForward();
        var g = _g.ForwardRows(v);
        var theta = _theta.ForwardRows(v);
        var phi = _phi.ForwardRows(v);
        // R[i, j] = θ_i · φ_j / N per image (the original's R_div_C).
        var r = Ops.MulScalar(Ops.BatchedMatMul(theta, phi, transB: true), 1f / n);
        var y = Ops.BatchedMatMul(r, g);
        var wy = _bn.Forward(_w.ForwardRows(y).Reshape(b * n, d)).Reshape(b, n, d);
        return Ops.Add(wy, v);
    }
}
