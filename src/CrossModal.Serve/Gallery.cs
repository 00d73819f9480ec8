using CrossModal.Models;
using CrossModal.Search;
using CrossModal.Search.Exact;

namespace CrossModal.Serve;

/// <summary>
/// What the server searches: a loaded model, the gallery's images encoded once (region sets or vectors), their raw
/// features (for explanations), their captions, and a pre-ranking index of one pooled unit vector per image for
/// two-stage retrieval. Immutable once built, so every request reads it without locks; the captions' encodings
/// (needed only to search captions by image) are computed in the background and published when complete.
/// </summary>
public sealed class Gallery : IDisposable
{
    private readonly float[] _features;
    private readonly int[] _captionImage;
    private readonly Task<EmbeddingSet> _captionEncodings;

    internal Gallery(ModelHandle model, IReadOnlyList<GalleryItem> items, float[] features, int regions, int featureDim, EmbeddingSet images,
        ExactIndex prerank, IReadOnlyList<string> captions, int[] captionImage, Task<EmbeddingSet> captionEncodings, string description)
    {
        Model = model;
        Items = items;
        _features = features;
        Regions = regions;
        FeatureDim = featureDim;
        Images = images;
        Prerank = prerank;
        Captions = captions;
        _captionImage = captionImage;
        _captionEncodings = captionEncodings;
        Description = description;
    }

    /// <summary>The model every query goes through.</summary>
    public ModelHandle Model { get; }

    /// <summary>The images, by id.</summary>
    public IReadOnlyList<GalleryItem> Items { get; }

    /// <summary>Regions per image (0 = one feature vector per image).</summary>
    public int Regions { get; }

    /// <summary>Floats per region (or per image when <see cref="Regions"/> is 0).</summary>
    public int FeatureDim { get; }

    /// <summary>Side of the square region grid (6 for 36 grid cells), or 0 when the regions are not a square grid.</summary>
    public int Grid
    {
        get
        {
            int g = (int)Math.Round(Math.Sqrt(Regions));
            return g > 0 && g * g == Regions ? g : 0;
        }
    }

    /// <summary>The encoded images, in id order.</summary>
    public EmbeddingSet Images { get; }

    /// <summary>One unit vector per image (the mean of its encoded rows, normalised): the first stage of two-stage search.</summary>
    public ExactIndex Prerank { get; }

    /// <summary>Every caption's text; image i owns <see cref="GalleryItem.CaptionCount"/> of them from <see cref="GalleryItem.FirstCaption"/>.</summary>
    public IReadOnlyList<string> Captions { get; }

    /// <summary>The image each caption describes.</summary>
    public IReadOnlyList<int> CaptionImage => _captionImage;

    /// <summary>Where the gallery came from (for the health endpoint and logs).</summary>
    public string Description { get; }

    /// <summary>The encoded captions once the background encoding has finished, else null.</summary>
    public EmbeddingSet? CaptionEncodings => _captionEncodings.IsCompletedSuccessfully ? _captionEncodings.Result : null;

    /// <summary>Why the caption encoding failed, if it did.</summary>
    public string? CaptionEncodingError => _captionEncodings.IsFaulted ? _captionEncodings.Exception!.GetBaseException().Message : null;

    /// <summary>Waits for the captions' encodings (tests and benchmarks that need image search at once).</summary>
    public EmbeddingSet WaitForCaptions(CancellationToken cancellationToken = default)
    {
        _captionEncodings.Wait(cancellationToken);
        return _captionEncodings.Result;
    }

    /// <summary>The raw features of image <paramref name="id"/> (regions x dim floats).</summary>
    public ReadOnlySpan<float> Features(int id)
    {
        int length = Math.Max(1, Regions) * FeatureDim;
        return _features.AsSpan(checked(id * length), length);
    }

    /// <inheritdoc/>
    public void Dispose() => Prerank.Dispose();
}
