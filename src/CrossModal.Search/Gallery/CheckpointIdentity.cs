using System.Security.Cryptography;
using System.Text.Json.Serialization;

namespace CrossModal.Search.Gallery;

/// <summary>
/// Which file a gallery's vectors came from: its full path, size and SHA-256. Vectors of another checkpoint (even of
/// the same family and shape) live in a different space, so a gallery refuses to be searched or appended with any
/// file whose hash differs.
/// </summary>
public sealed record CheckpointIdentity
{
    /// <summary>Full path when the gallery was built.</summary>
    [JsonPropertyName("path")] public required string Path { get; init; }

    /// <summary>File size in bytes.</summary>
    [JsonPropertyName("bytes")] public required long Bytes { get; init; }

    /// <summary>SHA-256 of the file, lower-case hex.</summary>
    [JsonPropertyName("sha256")] public required string Sha256 { get; init; }

    /// <summary>The identity of the file at <paramref name="path"/>.</summary>
    public static CheckpointIdentity Of(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var hash = SHA256.HashData(fs);
        return new CheckpointIdentity { Path = System.IO.Path.GetFullPath(path), Bytes = fs.Length, Sha256 = Convert.ToHexStringLower(hash) };
    }

    /// <summary>
    /// Throws an <see cref="InvalidDataException"/> unless the file at <paramref name="path"/> has this identity's
    /// hash; <paramref name="what"/> says what the file is ("checkpoint", "ONNX model"), <paramref name="gallery"/> names the index.
    /// </summary>
    public void Verify(string path, string what, string gallery)
    {
        var found = Of(path);
        if (found.Sha256 != Sha256)
            throw new InvalidDataException($"{gallery}: the index was built with the {what} {Path} (sha256 {Sha256[..16]}..., {Bytes} bytes); {found.Path} has sha256 {found.Sha256[..16]}... ({found.Bytes} bytes). Vectors of different models are not comparable: use the {what} the index was built with, or build a new index.");
    }
}
