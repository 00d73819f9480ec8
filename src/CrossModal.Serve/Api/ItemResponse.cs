namespace CrossModal.Serve.Api;

/// <summary>One gallery image and its captions.</summary>
/// <param name="Id">Gallery id.</param>
/// <param name="Name">File name.</param>
/// <param name="Captions">Its captions.</param>
/// <param name="Thumbnail">URL of the image, or null when the server has no image file for it.</param>
public sealed record ItemResponse(int Id, string Name, IReadOnlyList<string> Captions, string? Thumbnail);
