using CrossModal.Models;
using CrossModal.Search;
using CrossModal.Search.Gallery;

namespace CrossModal.Serve;

/// <summary>
/// What the server searches: a gallery index of <c>CrossModal.Search</c> (its items, pooled unit vectors, float16 row
/// sets and recorded checkpoint) and the model that checkpoint holds. At construction the images' encodings are
/// widened to float32 once (every full-mode query scores all of them); the captions' encodings (needed only to search
/// captions by image) are widened in the background and published when complete. Immutable afterwards, so every
/// request reads it without locks.
/// </summary>
public sealed class Gallery : IDisposable
{
    private readonly bool _ownsIndex;
    private readonly int[] _captionImage;
    private readonly int[][] _imageCaptions;
    private readonly Task<EmbeddingSet> _captionEncodings;
    private readonly Task? _widening;

    /// <summary>
    /// Serves <paramref name="index"/> with <paramref name="model"/> (the model the index was built with: its family and
    /// width are checked). <paramref name="captionEncodings"/> replaces the background widening of the captions (tests).
    /// </summary>
    internal Gallery(GalleryIndex index, ModelHandle model, bool ownsIndex, string description, Task<EmbeddingSet>? captionEncodings = null)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(model);
        var m = index.Metadata;
        if (model.Family.Name != m.Family || model.EmbedSize != m.EmbedSize)
            throw new InvalidDataException($"{index.Source}: the index holds {m.Family} vectors of width {m.EmbedSize}; the model {model.Source} is {model.Family.Name} of width {model.EmbedSize}.");
        Index = index;
        Model = model;
        _ownsIndex = ownsIndex;
        Description = description;
        Images = index.Images.Encodings();

        // Captions are "imageId#n" items (CrossModal.Search.Gallery.GalleryBuilder); each is shown with its image.
        var byId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < index.Images.Count; i++) byId.TryAdd(index.Images.Items[i].Id, i);
        var captions = index.Captions?.Items ?? [];
        _captionImage = new int[captions.Count];
        var perImage = new List<int>?[index.Images.Count];
        for (int c = 0; c < captions.Count; c++)
        {
            string id = captions[c].Id;
            int hash = id.LastIndexOf('#');
            _captionImage[c] = byId.TryGetValue(hash < 0 ? id : id[..hash], out int image) ? image : -1;
            if (_captionImage[c] >= 0) (perImage[_captionImage[c]] ??= new()).Add(c);
        }
        _imageCaptions = perImage.Select(l => l?.ToArray() ?? []).ToArray();
        if (captionEncodings is not null) _captionEncodings = captionEncodings;
        else if (index.Captions is { } caps) _widening = _captionEncodings = Task.Run(() => caps.Encodings(), CancellationToken.None);
        else _captionEncodings = Task.FromException<EmbeddingSet>(new InvalidOperationException("the index was built without captions (crossmodal index build --captions)"));
    }

    /// <summary>
    /// Opens the gallery index file <paramref name="path"/> and loads the checkpoint it records (or
    /// <paramref name="checkpoint"/>, which must have the recorded SHA-256), as <c>crossmodal search</c> does. A missing,
    /// foreign or truncated file, or another checkpoint, is one exception naming the file.
    /// </summary>
    public static Gallery Open(string path, string? checkpoint = null, string? vocab = null, CancellationToken cancellationToken = default)
    {
        var index = GalleryIndex.Open(path);
        try
        {
            var model = index.LoadModel(checkpoint, vocab, cancellationToken);
            string description = $"{model.Family.Name} model {model.Source}; index {Path.GetFullPath(path)}: {index.Images.Count} images" +
                (index.Captions is null ? "" : $", {index.Captions.Count} captions") + $", {index.Metadata.Structure}";
            return new Gallery(index, model, ownsIndex: true, description);
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>Serves a gallery index built in memory (<c>GalleryIndex.Create</c> and <c>GalleryBuilder</c>); it is disposed with this gallery.</summary>
    public static Gallery FromIndex(GalleryIndex index, ModelHandle model, string description) => new(index, model, ownsIndex: true, description);

    /// <summary>The gallery index (items, pooled vectors, metadata).</summary>
    public GalleryIndex Index { get; }

    /// <summary>The model every query goes through.</summary>
    public ModelHandle Model { get; }

    /// <summary>The images, by id (position).</summary>
    public IReadOnlyList<GalleryItem> Items => Index.Images.Items;

    /// <summary>Regions per image of the input features (0 = one feature vector per image).</summary>
    public int Regions => Index.Metadata.FeatureRegions;

    /// <summary>Floats per input region (or per image when <see cref="Regions"/> is 0).</summary>
    public int FeatureDim => Index.Metadata.FeatureDim;

    /// <summary>Side of the square region grid (6 for 36 grid cells), or 0 when the regions are not a square grid.</summary>
    public int Grid => GridOf(Regions);

    /// <summary>The side of a square grid of <paramref name="regions"/> cells, or 0.</summary>
    public static int GridOf(int regions)
    {
        int g = (int)Math.Round(Math.Sqrt(regions));
        return g > 0 && g * g == regions ? g : 0;
    }

    /// <summary>The encoded images in id order, as float32 (the index's float16 rows, or its vectors for single-vector models).</summary>
    public EmbeddingSet Images { get; }

    /// <summary>One pooled unit vector per image (the index's vector section): the first stage of two-stage search.</summary>
    public IVectorIndex Prerank => Index.Images.Vectors;

    /// <summary>The captions (empty when the index was built without them).</summary>
    public IReadOnlyList<GalleryItem> Captions => Index.Captions?.Items ?? [];

    /// <summary>The image each caption describes (-1 when its image is not in the gallery).</summary>
    public IReadOnlyList<int> CaptionImage => _captionImage;

    /// <summary>The captions of image <paramref name="id"/>, as positions in <see cref="Captions"/>.</summary>
    public IReadOnlyList<int> CaptionsOf(int id) => _imageCaptions[id];

    /// <summary>The image file of item <paramref name="id"/> as the index records it, or null when it records none.</summary>
    public string? ImagePath(int id) => Items[id].Path is { Length: > 0 } path ? path : null;

    /// <summary>Where the gallery came from (for the health endpoint and logs).</summary>
    public string Description { get; }

    /// <summary>The encoded captions once the background widening has finished, else null.</summary>
    public EmbeddingSet? CaptionEncodings => _captionEncodings.IsCompletedSuccessfully ? _captionEncodings.Result : null;

    /// <summary>Why the captions cannot be searched, if so.</summary>
    public string? CaptionEncodingError => _captionEncodings.IsFaulted ? _captionEncodings.Exception!.GetBaseException().Message : null;

    /// <summary>Waits for the captions' encodings (tests and benchmarks that need image search at once).</summary>
    public EmbeddingSet WaitForCaptions(CancellationToken cancellationToken = default)
    {
        _captionEncodings.Wait(cancellationToken);
        return _captionEncodings.Result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // The caption widening reads the mapped file: let it finish before the mapping goes.
        try { _widening?.Wait(); } catch (AggregateException) { }
        if (_ownsIndex) Index.Dispose();
    }
}
