namespace CrossModal.Serve;

/// <summary>One gallery image: its id (position), file name, where its file is (or null), and its captions' range.</summary>
/// <param name="Id">Position in the gallery (0-based); the only handle the API accepts.</param>
/// <param name="Name">The image's file name as the data lists it (e.g. 1056338697_4f7d7ce270.jpg).</param>
/// <param name="ImagePath">Full path of the image file, or null when no image folder was given.</param>
/// <param name="FirstCaption">Index of its first caption in <see cref="Gallery.Captions"/>.</param>
/// <param name="CaptionCount">Number of its captions.</param>
public sealed record GalleryItem(int Id, string Name, string? ImagePath, int FirstCaption, int CaptionCount);
