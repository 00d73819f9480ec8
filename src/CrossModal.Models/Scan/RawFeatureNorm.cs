namespace CrossModal.Models.Scan;

/// <summary>SCAN's --raw_feature_norm: applied to the raw context·query similarities across the query axis.</summary>
public enum RawFeatureNorm
{
    /// <summary>LeakyReLU(0.1), then divide by the L2 norm over the query axis + 1e-8 (the default of every published model).</summary>
    ClippedL2Norm,

    /// <summary>Divide by the L2 norm over the query axis + 1e-8.</summary>
    L2Norm,

    /// <summary>Softmax over the query axis.</summary>
    Softmax,

    /// <summary>LeakyReLU(0.1) only.</summary>
    Clipped,

    /// <summary>No normalisation.</summary>
    NoNorm,
}
