using System.Text.Json.Serialization;

namespace CrossModal.Models.Vse;

/// <summary>VSE++'s settings (fartashf/vsepp train.py flags; precomputed-feature models).</summary>
public sealed record VseConfig : MatchingConfig
{
    /// <inheritdoc/>
    public override string Model => VseFamily.FamilyName;

    /// <summary>--no_imgnorm: skip the image L2 normalisation (VSE0).</summary>
    [JsonPropertyName("no_imgnorm")]
    [Flag("do not L2-normalise the image embedding (VSE0)")]
    public bool NoImgNorm { get; init; }

    /// <summary>Bidirectional text GRU whose two final states are averaged (not in the original VSE++; off by default).</summary>
    [Flag("bidirectional text GRU, directions averaged")]
    public bool BiGru { get; init; }
}
