using System.Text.Json.Serialization;

namespace CrossModal.Models.Naaf;

/// <summary>NAAF's --precomp_enc_text_type (JSON names are the original values).</summary>
public enum TextEncoderType
{
    /// <summary>SCAN's text encoder: a learned embedding U(-0.1, 0.1) (<c>embed.weight</c>), Bi-GRU, directions averaged.</summary>
    [JsonStringEnumMemberName("basic")]
    Basic,

    /// <summary>GloveRNNEncoder: the embedding table from a GloVe file (<c>embed.glove.weight</c>; fine-tuned like the original), Bi-GRU.</summary>
    [JsonStringEnumMemberName("GloVe")]
    Glove,
}
