using System.Text.Json.Serialization;

namespace CrossModal.Models.Encoders;

/// <summary>SCAN's --precomp_enc_type: the region encoder's linear layer (JSON names are the original values).</summary>
public enum ImageEncoderType
{
    /// <summary>A plain Linear with Xavier-uniform weights and zero bias.</summary>
    [JsonStringEnumMemberName("basic")]
    Basic,

    /// <summary>torch.nn.utils.weight_norm(Linear, dim=None).</summary>
    [JsonStringEnumMemberName("weight_norm")]
    WeightNorm,
}
