using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// VSRN's image encoder (EncoderImagePrecompAttn): fc (Xavier-uniform, bias 0) on every region; the region l2norm
/// unless data_name is exactly f30k_precomp; four <see cref="RsGcn"/> blocks; the region l2norm again; a GRU over
/// the regions in their order whose final state is the image's vector; BatchNorm1d (bn, f30k_precomp only); an L2
/// normalisation (no epsilon) unless no_imgnorm. Also returns the l2-normalised GCN regions, which the caption
/// branch reads. State-dict names and order: fc, img_rnn, Rs_GCN_1..4, bn.
/// </summary>
internal sealed class VsrnImageEncoder : Module
{
    private readonly Linear _fc;
    private readonly Gru _rnn;
    private readonly RsGcn[] _gcn;
    private readonly BatchNorm1d? _bn;
    private readonly bool _normalizeBeforeGcn, _noImgNorm;

    public VsrnImageEncoder(VsrnConfig config, Rng rng)
    {
        int e = config.EmbedSize;
        ImgDim = config.ImgDim;
        _fc = RegisterModule("fc", new Linear(config.ImgDim, e, rng));
        // init_weights: U(-r, r), r = sqrt(6) / sqrt(in + out); bias 0.
        Init.XavierUniform(_fc.Weight, rng);
        _fc.Bias!.Data.Clear();
        _rnn = RegisterModule("img_rnn", new Gru(e, e, rng));
        _gcn = new RsGcn[4];
        for (int k = 0; k < 4; k++) _gcn[k] = RegisterModule($"Rs_GCN_{k + 1}", new RsGcn(e, rng));
        if (config.IsFlickr30K) _bn = RegisterModule("bn", new BatchNorm1d(e));
        _normalizeBeforeGcn = !config.IsFlickr30K;
        _noImgNorm = config.NoImgNorm;
    }

    /// <summary>Input feature width.</summary>
    public int ImgDim { get; }

    /// <summary>Test hook: receives the intermediate tensors by the names of the parity fixtures (fc_out, gcn1_out, ...).</summary>
    internal Action<string, Tensor>? Observer { get; set; }

    /// <summary>
    /// Region features [B, N, img_dim] to the image embedding [B, E] and the l2-normalised GCN regions [B, N, E]
    /// (the original's GCN_img_emd, input of the image GRU and of the caption encoder).
    /// </summary>
    public (Tensor Embedding, Tensor Regions) Forward(Tensor features) => Forward(features, (k, x) => _gcn[k].Forward(x));

    /// <summary>
    /// The image embedding of a model whose weights no longer change (a model handle's; evaluation mode): the same
    /// function as <see cref="Forward(Tensor)"/>'s embedding, with the GCN blocks folded once, here
    /// (<see cref="FoldedRsGcn"/>: half their GEMM work).
    /// </summary>
    public Func<Tensor, Tensor> Frozen()
    {
        if (Training) throw new InvalidOperationException("A frozen VSRN image encoder needs the model in evaluation mode.");
        var blocks = _gcn.Select(b => b.Fold()).ToArray();
        return features => Forward(features, (k, x) => blocks[k].Forward(x)).Embedding;
    }

    private (Tensor Embedding, Tensor Regions) Forward(Tensor features, Func<int, Tensor, Tensor> gcn)
    {
        if (features.Rank != 3 || features.Dim(2) != ImgDim)
            throw new ArgumentException($"VSRN needs region features [B, N, {ImgDim}], got {Tensor.FormatShape(features.ShapeSpan)}.");
        int b = features.Dim(0), n = features.Dim(1);
        var x = _fc.Forward(features);
        Observer?.Invoke("fc_out", x);
        if (_normalizeBeforeGcn) x = RegionL2Norm.Forward(x);
        for (int k = 0; k < _gcn.Length; k++)
        {
            x = gcn(k, x);
            Observer?.Invoke($"gcn{k + 1}_out", x);
        }
        var regions = RegionL2Norm.Forward(x);
        var lengths = new int[b];
        Array.Fill(lengths, n);
        _rnn.MarkForward();
        var (_, hidden) = _rnn.Forward(regions, lengths);
        var embedding = hidden.Reshape(b, _rnn.HiddenSize);
        Observer?.Invoke("img_rnn_h", embedding);
        if (_bn is not null)
        {
            _bn.MarkForward();
            embedding = _bn.Forward(embedding);
        }
        if (!_noImgNorm) embedding = Ops.L2Normalize(embedding, -1, eps: 0f);
        return (embedding, regions);
    }
}
