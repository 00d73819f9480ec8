using System.Text.Json.Serialization;

namespace CrossModal.Search.Gallery;

/// <summary>Where a section of a gallery index file lies: a 64-byte aligned offset and its length in bytes.</summary>
public sealed record GallerySection
{
    /// <summary>Offset from the start of the file.</summary>
    [JsonPropertyName("offset")] public required long Offset { get; init; }

    /// <summary>Length in bytes.</summary>
    [JsonPropertyName("length")] public required long Length { get; init; }
}
