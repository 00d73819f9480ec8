using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Encoders;

/// <summary>
/// torch.nn.utils.weight_norm(nn.Linear(in, out), dim=None): W = g · v / ‖v‖_F with a scalar g. Parameters
/// "weight_g" (shape []), "weight_v" [out, in], "bias" [out]; initialised like PyTorch (default Linear init, then
/// g = ‖v‖_F so that W starts equal to v).
/// </summary>
public sealed class WeightNormLinear : Module
{
    /// <summary>Creates the layer.</summary>
    public WeightNormLinear(int inFeatures, int outFeatures, Rng rng)
    {
        var plain = new Linear(inFeatures, outFeatures, rng);
        WeightG = RegisterParameter("weight_g", Tensor.Scalar(System.Numerics.Tensors.TensorPrimitives.Norm(plain.Weight.Data)));
        WeightV = RegisterParameter("weight_v", plain.Weight.Clone());
        Bias = RegisterParameter("bias", plain.Bias!.Clone());
    }

    /// <summary>The scalar magnitude g.</summary>
    public Tensor WeightG { get; }

    /// <summary>The direction v [out, in].</summary>
    public Tensor WeightV { get; }

    /// <summary>[out].</summary>
    public Tensor Bias { get; }

    /// <summary>The effective weight g · v / ‖v‖_F (differentiable).</summary>
    public Tensor Weight()
    {
        var norm = Ops.Sqrt(Ops.SumAll(Ops.Mul(WeightV, WeightV)));
        return Ops.Mul(WeightV, Ops.Div(WeightG, norm));
    }

    /// <summary>x W^T + b over the last axis.</summary>
    public Tensor Forward(Tensor x) => Ops.Linear(x, Weight(), Bias);
}
