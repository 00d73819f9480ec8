using System.Text.Json;
using System.Text.Json.Serialization;

namespace CrossModal.Search.Gallery;

/// <summary>
/// What a gallery index file says about itself (its JSON metadata): the model whose vectors it holds, how query
/// images must be turned into features, whether the pooled vectors' inner products are the model's own scores,
/// and where each section lies in the file.
/// </summary>
public sealed record GalleryMetadata
{
    /// <summary>The format tag, <see cref="FormatTag"/>.</summary>
    public const string FormatTag = "crossmodal-gallery/1";

    /// <summary>The format tag.</summary>
    [JsonPropertyName("format")] public string Format { get; init; } = FormatTag;

    /// <summary>The checkpoint that encoded every item.</summary>
    [JsonPropertyName("checkpoint")] public required CheckpointIdentity Checkpoint { get; init; }

    /// <summary>The model family's name.</summary>
    [JsonPropertyName("family")] public required string Family { get; init; }

    /// <summary>The model's configuration JSON (as in the checkpoint).</summary>
    [JsonPropertyName("model_config")] public required string ModelConfig { get; init; }

    /// <summary>Width of the encoded vectors.</summary>
    [JsonPropertyName("embed_size")] public required int EmbedSize { get; init; }

    /// <summary>
    /// True when every item is one unit vector and the model's score is their inner product (VSE++): the vector
    /// index's scores are final. False for cross-attention models (SCAN): the index ranks by pooled vectors (the
    /// mean of an item's rows, normalised) and the model re-scores the candidates from the stored row sets.
    /// </summary>
    [JsonPropertyName("direct")] public required bool Direct { get; init; }

    /// <summary>The search structure of the vector sections: exact, int8 or hnsw.</summary>
    [JsonPropertyName("structure")] public required string Structure { get; init; }

    /// <summary>Regions per image of the input features (0 = one vector).</summary>
    [JsonPropertyName("feature_regions")] public required int FeatureRegions { get; init; }

    /// <summary>Width of the input features.</summary>
    [JsonPropertyName("feature_dim")] public required int FeatureDim { get; init; }

    /// <summary>How query images become features (null: image queries are refused).</summary>
    [JsonPropertyName("image_features")] public ImagePipeline? ImageFeatures { get; init; }

    /// <summary>What was added, in order (one line per build or append).</summary>
    [JsonPropertyName("sources")] public List<string> Sources { get; init; } = new();

    /// <summary>Byte ranges of the sections (filled when the file is written).</summary>
    [JsonPropertyName("sections")] public Dictionary<string, GallerySection> Sections { get; init; } = new();

    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    internal string ToJson() => JsonSerializer.Serialize(this, Json);

    internal static GalleryMetadata FromJson(string json, string source)
    {
        GalleryMetadata? m;
        try { m = JsonSerializer.Deserialize<GalleryMetadata>(json, Json); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: the gallery metadata is not valid JSON ({e.Message}).", e); }
        if (m is null) throw new InvalidDataException($"{source}: the gallery metadata is empty.");
        if (m.Format != FormatTag) throw new InvalidDataException($"{source}: gallery format '{m.Format}'; this build reads '{FormatTag}'.");
        return m;
    }
}
