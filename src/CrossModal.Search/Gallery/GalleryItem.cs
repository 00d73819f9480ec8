namespace CrossModal.Search.Gallery;

/// <summary>
/// One gallery item: its id (an image file name from the split's ids file, or "image#n" for a caption), the image
/// file it came from (may be empty for precomp data without an image folder) and, for captions, the text.
/// </summary>
/// <param name="Id">The item's id as the user knows it.</param>
/// <param name="Path">The source image's path (for a caption: its image's path).</param>
/// <param name="Text">The caption text; empty for images.</param>
public readonly record struct GalleryItem(string Id, string Path, string Text)
{
    /// <summary>One line of the items section: the three fields separated by tabs.</summary>
    internal string ToLine()
    {
        Check(Id, "id");
        Check(Path, "path");
        Check(Text, "text");
        return $"{Id}\t{Path}\t{Text}\n";
    }

    internal static GalleryItem Parse(string line, string source, int index)
    {
        var parts = line.Split('\t');
        if (parts.Length != 3) throw new InvalidDataException($"{source}: gallery item {index} has {parts.Length} tab-separated fields, expected 3 (id, path, text).");
        return new GalleryItem(parts[0], parts[1], parts[2]);
    }

    private static void Check(string value, string field)
    {
        if (value.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
            throw new ArgumentException($"A gallery item's {field} cannot hold tabs or line breaks: '{value.ReplaceLineEndings(" ")}'.");
    }
}
