using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Encoders;

/// <summary>
/// The precomputed-feature image encoder of VSE++ and SCAN (EncoderImagePrecomp): a linear map of each feature
/// vector (or of each region) to the joint space, then L2 normalisation x / (‖x‖ + eps) unless disabled.
/// VSE++ pools regions by their mean before normalising (poolRegions); SCAN keeps them.
/// Parameters are "fc.weight", "fc.bias" (Xavier-uniform weight, zero bias), or "fc.weight_g", "fc.weight_v",
/// "fc.bias" for SCAN's weight_norm variant; IMRAM names the same layer "fc_local" (<c>linearName</c>).
/// </summary>
public sealed class ImageEncoderPrecomp : Module
{
    private readonly Linear? _fc;
    private readonly WeightNormLinear? _fcWeightNorm;

    /// <summary>Creates the encoder.</summary>
    public ImageEncoderPrecomp(int imgDim, int embedSize, Rng rng, bool noImgNorm, float eps, bool poolRegions, bool weightNorm = false, string linearName = "fc")
    {
        ImgDim = imgDim;
        NoImgNorm = noImgNorm;
        Eps = eps;
        PoolRegions = poolRegions;
        if (weightNorm) _fcWeightNorm = RegisterModule(linearName, new WeightNormLinear(imgDim, embedSize, rng));
        else
        {
            _fc = RegisterModule(linearName, new Linear(imgDim, embedSize, rng));
            // VSE++/SCAN init_weights: U(-r, r), r = sqrt(6) / sqrt(in + out); bias 0.
            Init.XavierUniform(_fc.Weight, rng);
            _fc.Bias!.Data.Clear();
        }
    }

    /// <summary>Input feature size.</summary>
    public int ImgDim { get; }

    /// <summary>Whether the L2 normalisation is skipped.</summary>
    public bool NoImgNorm { get; }

    /// <summary>Added to the norm (1e-8 in SCAN, 0 in VSE++).</summary>
    public float Eps { get; }

    /// <summary>Whether regions are averaged into one vector.</summary>
    public bool PoolRegions { get; }

    /// <summary>The linear projection alone ([.., D] to [.., E]): no pooling, no normalisation.</summary>
    public Tensor Project(Tensor features)
    {
        if (features.Dim(-1) != ImgDim)
            throw new ArgumentException($"Image features {Tensor.FormatShape(features.ShapeSpan)} do not end in img_dim {ImgDim}.");
        return _fc is not null ? _fc.Forward(features) : _fcWeightNorm!.Forward(features);
    }

    /// <summary>Encodes [B, D] to [B, E] or [B, R, D] to [B, R, E] (or [B, E] when pooling).</summary>
    public Tensor Forward(Tensor features)
    {
        if (features.Dim(-1) != ImgDim)
            throw new ArgumentException($"Image features {Tensor.FormatShape(features.ShapeSpan)} do not end in img_dim {ImgDim}.");
        var x = _fc is not null ? _fc.Forward(features) : _fcWeightNorm!.Forward(features);
        if (PoolRegions && x.Rank == 3) x = Ops.Mean(x, 1);
        return NoImgNorm ? x : Ops.L2Normalize(x, -1, Eps);
    }
}
