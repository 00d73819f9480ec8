namespace CrossModal.Search.Gallery;

/// <summary>One search result: the item's position in its collection, the item and its score, best first.</summary>
/// <param name="Rank">1 for the best.</param>
/// <param name="Index">Position of the item in the gallery's images or captions.</param>
/// <param name="Item">The item (id, image path, caption text).</param>
/// <param name="Score">The model's score (or the cosine of pooled vectors for same-modality queries).</param>
public readonly record struct GalleryHit(int Rank, int Index, GalleryItem Item, float Score);
