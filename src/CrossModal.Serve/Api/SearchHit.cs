namespace CrossModal.Serve.Api;

/// <summary>One gallery image found by a query.</summary>
/// <param name="Id">Gallery id (use it with /api/items/{id}, /api/items/{id}/thumbnail and /api/explain).</param>
/// <param name="Name">The image's file name.</param>
/// <param name="Score">The model's score for the pair (higher = better match).</param>
/// <param name="Thumbnail">URL of the image.</param>
public sealed record SearchHit(int Id, string Name, float Score, string Thumbnail);
