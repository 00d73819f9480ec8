using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Imram;

/// <summary>IMRAM's four memory layers (model.py: linear_t2i, gate_t2i, linear_i2t, gate_i2t; Linear(2d → d) each).</summary>
/// <param name="LinearT2I">linear_t2i: the candidate update of the words (tanh).</param>
/// <param name="GateT2I">gate_t2i: the words' update gate (sigmoid).</param>
/// <param name="LinearI2T">linear_i2t: the candidate update of the regions.</param>
/// <param name="GateI2T">gate_i2t: the regions' update gate.</param>
public sealed record ImramGates(Linear LinearT2I, Linear GateT2I, Linear LinearI2T, Linear GateI2T)
{
    /// <summary>Whether a layer the mode trains asks for a gradient (K = 1 trains none: the only update is discarded).</summary>
    public bool RequiresGrad(ImramOptions o)
    {
        if (o.IterationStep < 2) return false;
        bool t = o.TextToImage && (LinearT2I.Weight.RequiresGrad || GateT2I.Weight.RequiresGrad);
        bool i = o.ImageToText && (LinearI2T.Weight.RequiresGrad || GateI2T.Weight.RequiresGrad);
        return t || i;
    }
}
