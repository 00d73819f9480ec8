namespace CrossModal.Search.Gallery;

/// <summary>What a query searches: the gallery's images or its captions.</summary>
public enum GalleryTarget
{
    /// <summary>The gallery's images.</summary>
    Images,

    /// <summary>The gallery's captions (present when the gallery was built with captions).</summary>
    Captions,
}
