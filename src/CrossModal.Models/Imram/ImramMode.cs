using System.Text.Json.Serialization;

namespace CrossModal.Models.Imram;

/// <summary>IMRAM's --model_mode, with the original spellings.</summary>
public enum ImramMode
{
    /// <summary>Both directions, their step scores added (the paper's full model).</summary>
    [JsonStringEnumMemberName("full_IMRAM")]
    FullImram,

    /// <summary>Words query the regions (t2i).</summary>
    [JsonStringEnumMemberName("text_IMRAM")]
    TextImram,

    /// <summary>Regions query the words (i2t).</summary>
    [JsonStringEnumMemberName("image_IMRAM")]
    ImageImram,
}
