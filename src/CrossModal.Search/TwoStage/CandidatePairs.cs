namespace CrossModal.Search.TwoStage;

/// <summary>
/// The distinct image x caption pairs a two-stage search must re-score, grouped by one side (compressed rows): group
/// g is one image (or caption) with the sorted ids of its partners. Two-stage retrieval in both directions asks for
/// many pairs twice (a caption among an image's candidates whose own candidates hold that image); they are scored once.
/// </summary>
public sealed class CandidatePairs
{
    private readonly int[] _start;    // group g's partners are _partners[_start[g] .. _start[g + 1])
    private readonly int[] _partners;

    /// <summary>
    /// The distinct pairs (images[p], captions[p]). Grouped by the side with fewer distinct items among the pairs
    /// (so groups are large: one block scorer call per group scores many pairs), by image on a tie.
    /// </summary>
    public CandidatePairs(int imageCount, int captionCount, ReadOnlySpan<int> images, ReadOnlySpan<int> captions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(imageCount);
        ArgumentOutOfRangeException.ThrowIfNegative(captionCount);
        if (images.Length != captions.Length) throw new ArgumentException($"{images.Length} image ids for {captions.Length} caption ids.");
        ImageCount = imageCount;
        CaptionCount = captionCount;
        var seenImages = new bool[imageCount];
        var seenCaptions = new bool[captionCount];
        int distinctImages = 0, distinctCaptions = 0;
        for (int p = 0; p < images.Length; p++)
        {
            if ((uint)images[p] >= (uint)imageCount) throw new ArgumentOutOfRangeException(nameof(images), $"Image id {images[p]} outside 0..{imageCount - 1}.");
            if ((uint)captions[p] >= (uint)captionCount) throw new ArgumentOutOfRangeException(nameof(captions), $"Caption id {captions[p]} outside 0..{captionCount - 1}.");
            if (!seenImages[images[p]]) { seenImages[images[p]] = true; distinctImages++; }
            if (!seenCaptions[captions[p]]) { seenCaptions[captions[p]] = true; distinctCaptions++; }
        }
        ByImage = distinctImages <= distinctCaptions;
        var groups = ByImage ? images : captions;
        var others = ByImage ? captions : images;
        long width = ByImage ? captionCount : imageCount;
        // One sortable key per pair (group major), so that sorting groups the pairs and orders each group's partners.
        var keys = new long[images.Length];
        for (int p = 0; p < keys.Length; p++) keys[p] = groups[p] * width + others[p];
        Array.Sort(keys);
        int distinct = 0;
        for (int p = 0; p < keys.Length; p++)
            if (p == 0 || keys[p] != keys[p - 1]) keys[distinct++] = keys[p];
        GroupCount = ByImage ? imageCount : captionCount;
        _start = new int[GroupCount + 1];
        _partners = new int[distinct];
        for (int p = 0; p < distinct; p++)
        {
            _start[(int)(keys[p] / width) + 1]++;
            _partners[p] = (int)(keys[p] % width);
        }
        for (int g = 0; g < GroupCount; g++) _start[g + 1] += _start[g];
    }

    /// <summary>Images of the gallery the ids refer to.</summary>
    public int ImageCount { get; }

    /// <summary>Captions of the gallery the ids refer to.</summary>
    public int CaptionCount { get; }

    /// <summary>True when group g is image g (partners are captions); false when group g is caption g.</summary>
    public bool ByImage { get; }

    /// <summary>Number of groups: every image (or caption), most with no pairs on small candidate sets.</summary>
    public int GroupCount { get; }

    /// <summary>Distinct pairs.</summary>
    public int Count => _partners.Length;

    /// <summary>Where group g's pairs start in the pair order (and in a scores array of <see cref="Count"/>).</summary>
    public int Start(int group) => _start[group];

    /// <summary>The sorted partner ids of group g.</summary>
    public ReadOnlySpan<int> Partners(int group) => _partners.AsSpan(_start[group], _start[group + 1] - _start[group]);

    /// <summary>Position of the pair (image, caption) in the pair order, or -1 if it is not among the pairs.</summary>
    public int IndexOf(int image, int caption)
    {
        int group = ByImage ? image : caption, partner = ByImage ? caption : image;
        int at = Partners(group).BinarySearch(partner);
        return at < 0 ? -1 : _start[group] + at;
    }
}
