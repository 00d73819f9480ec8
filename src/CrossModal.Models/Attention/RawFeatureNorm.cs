using System.Text.Json.Serialization;

namespace CrossModal.Models.Attention;

/// <summary>
/// SCAN's --raw_feature_norm (also used by IMRAM and NAAF): applied to the raw context·query similarities across the
/// query axis. The JSON names are the original flag values.
/// </summary>
public enum RawFeatureNorm
{
    /// <summary>LeakyReLU(0.1), then divide by the L2 norm over the query axis + 1e-8 (the default of every published model).</summary>
    [JsonStringEnumMemberName("clipped_l2norm")]
    ClippedL2Norm,

    /// <summary>Divide by the L2 norm over the query axis + 1e-8.</summary>
    [JsonStringEnumMemberName("l2norm")]
    L2Norm,

    /// <summary>Softmax over the query axis.</summary>
    [JsonStringEnumMemberName("softmax")]
    Softmax,

    /// <summary>LeakyReLU(0.1) only.</summary>
    [JsonStringEnumMemberName("clipped")]
    Clipped,

    /// <summary>No normalisation.</summary>
    [JsonStringEnumMemberName("no_norm")]
    NoNorm,
}
