using System.Text.Json.Serialization;

namespace CrossModal.Models.Scan;

/// <summary>SCAN's --cross_attn: which modality attends to the other (JSON names are the original values).</summary>
public enum AttentionDirection
{
    /// <summary>t2i ("SCAN t-i"): each word attends to the regions; the score pools over words.</summary>
    [JsonStringEnumMemberName("t2i")]
    TextToImage,

    /// <summary>i2t ("SCAN i-t"): each region attends to the words; the score pools over regions.</summary>
    [JsonStringEnumMemberName("i2t")]
    ImageToText,
}
