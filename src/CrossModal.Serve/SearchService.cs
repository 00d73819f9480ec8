using System.Diagnostics;
using CrossModal.Models;
using CrossModal.Search.Gallery;
using CrossModal.Serve.Api;
using CrossModal.Text;

namespace CrossModal.Serve;

/// <summary>
/// The API's work, independent of HTTP: text search (full or two-stage), image search, explanations, items. Every
/// call reads the immutable <see cref="Gallery"/> and the thread-safe <see cref="ModelHandle"/> and keeps its
/// buffers to itself, so calls run concurrently without locks; only the CNN of image queries is limited to
/// <see cref="ServeOptions.MaxConcurrentImageQueries"/> at a time (its activations are large). Bad input is a
/// <see cref="ServeException"/> with the status code to send.
/// </summary>
public sealed class SearchService
{
    private readonly SemaphoreSlim _cnnSlots;

    /// <summary>Creates the service; <paramref name="imageEncoder"/> is null when image queries are not offered.</summary>
    public SearchService(Gallery gallery, ServeOptions options, ImageQueryEncoder? imageEncoder)
    {
        Gallery = gallery;
        Options = options;
        ImageEncoder = imageEncoder;
        _cnnSlots = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentImageQueries));
    }

    /// <summary>What is searched.</summary>
    public Gallery Gallery { get; }

    /// <summary>The limits.</summary>
    public ServeOptions Options { get; }

    /// <summary>The CNN for image queries, or null.</summary>
    public ImageQueryEncoder? ImageEncoder { get; }

    /// <summary>The thumbnail URL of an item.</summary>
    public static string ThumbnailUrl(int id) => $"/api/items/{id}/thumbnail";

    /// <summary>The top <paramref name="k"/> images for a text query.</summary>
    public TextSearchResponse SearchText(string? query, int k, string mode, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var (ids, tokens) = ParseQuery(query);
        bool twoStage = mode switch
        {
            "full" => false,
            "two-stage" => true,
            _ => throw new ServeException(400, $"mode must be 'full' or 'two-stage', got '{mode}'."),
        };
        var model = Gallery.Model;
        int n = Gallery.Items.Count;
        k = Math.Min(k, n);
        var caption = model.EncodeCaptions([ids]);
        int[] candidates;
        float[] scores;
        if (!twoStage)
        {
            candidates = Enumerable.Range(0, n).ToArray();
            scores = new float[n];
            int shard = Math.Max(1, Math.Min(n, model.ShardSize));
            for (int i0 = 0; i0 < n; i0 += shard)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int i1 = Math.Min(n, i0 + shard);
                model.ScoreBlock(Gallery.Images, i0, i1, caption, 0, 1, scores.AsSpan(i0, i1 - i0), 1);
            }
        }
        else
        {
            var pooled = new float[model.EmbedSize];
            GalleryCollection.Pool(caption.Item(0), model.EmbedSize, pooled, "the query");
            int first = Math.Min(n, Math.Max(k, Options.PrerankK));
            var found = new int[first];
            var approx = new float[first];
            Gallery.Prerank.Search(pooled, first, found, approx, cancellationToken);
            candidates = found.Where(id => id >= 0).ToArray();
            scores = new float[candidates.Length];
            for (int c = 0; c < candidates.Length; c++)
            {
                if ((c & 15) == 0) cancellationToken.ThrowIfCancellationRequested();
                model.ScoreBlock(Gallery.Images, candidates[c], candidates[c] + 1, caption, 0, 1, scores.AsSpan(c, 1), 1);
            }
        }
        var order = TopK(scores, candidates, k);
        var hits = order.Select(c => new SearchHit(candidates[c], Gallery.Items[candidates[c]].Id, scores[c], ThumbnailUrl(candidates[c]))).ToArray();
        return new TextSearchResponse(query!, twoStage ? "two-stage" : "full", tokens, tokens.Where(t => !t.Known).Select(t => t.Word).Distinct().ToArray(),
            hits, candidates.Length, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>The top <paramref name="k"/> gallery captions for an uploaded JPEG or PNG.</summary>
    public async Task<ImageSearchResponse> SearchImageAsync(byte[] image, int k, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (ImageEncoder is null) throw new ServeException(501, "Image search is not enabled: the gallery index records no CNN (crossmodal index build --onnx) and the server was not started with --onnx.");
        if (Gallery.Regions > 0 && Gallery.Grid == 0) throw new ServeException(501, $"The gallery's {Gallery.Regions} regions are not a square grid; an uploaded image cannot be turned into such features.");
        if (image.Length == 0) throw new ServeException(400, "The uploaded file is empty.");
        if (image.Length > Options.MaxUploadBytes) throw new ServeException(413, $"The uploaded file has {image.Length} bytes; the limit is {Options.MaxUploadBytes}.");
        if (ImageHeader.ContentType(image) is null)
            throw new ServeException(415, $"The uploaded file is not a JPEG or PNG image (it starts with {Convert.ToHexString(image.AsSpan(0, Math.Min(8, image.Length)))}).");
        var size = ImageHeader.Size(image) ?? throw new ServeException(400, "The uploaded image's header could not be read (no frame size found): the file is truncated or corrupt.");
        if ((long)size.Width * size.Height > Options.MaxPixels)
            throw new ServeException(413, $"The uploaded image is {size.Width} x {size.Height} = {(long)size.Width * size.Height} pixels; the limit is {Options.MaxPixels}.");
        if (size.Width == 0 || size.Height == 0) throw new ServeException(400, $"The uploaded image is {size.Width} x {size.Height} pixels.");
        var captions = Gallery.CaptionEncodings
            ?? throw (Gallery.CaptionEncodingError is { } error
                ? new ServeException(501, $"Image search needs the gallery's captions: {error}.")
                : new ServeException(503, "The gallery's captions are still being loaded; try again in a few seconds."));

        float[] features;
        await _cnnSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            features = ImageEncoder.Encode(image, Gallery.Grid, Gallery.FeatureDim, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            throw new ServeException(400, e.Message);
        }
        finally
        {
            _cnnSlots.Release();
        }
        var model = Gallery.Model;
        var encoded = model.EncodeImages(features, 1, Gallery.Regions, Gallery.FeatureDim);
        int m = captions.Count;
        var scores = new float[m];
        int shard = Math.Max(1, Math.Min(m, model.ShardSize));
        for (int j0 = 0; j0 < m; j0 += shard)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int j1 = Math.Min(m, j0 + shard);
            model.ScoreBlock(encoded, 0, 1, captions, j0, j1, scores.AsSpan(j0, j1 - j0), j1 - j0);
        }
        var ids = Enumerable.Range(0, m).ToArray();
        var hits = TopK(scores, ids, Math.Min(k, m)).Select(c =>
        {
            int img = Gallery.CaptionImage[c];
            return new CaptionHit(c, Gallery.Captions[c].Text, img, img < 0 ? "" : Gallery.Items[img].Id, scores[c], img < 0 ? null : ThumbnailUrl(img));
        }).ToArray();
        return new ImageSearchResponse(size.Width, size.Height, hits, m, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// The attention maps or region contributions of one query and one gallery image, computed by the model from the
    /// image's encoding as the index stores it (the rows full and two-stage search score).
    /// </summary>
    public ExplainResponse Explain(string? query, int id)
    {
        var (ids, tokens) = ParseQuery(query);
        var item = Item(id);
        var explanation = Gallery.Model.ExplainEncoded(Gallery.Images.Item(id), Gallery.Images.Length(id), ids)
            ?? throw new ServeException(501, $"The {Gallery.Model.Family.Name} model offers no explanation of its scores from a gallery's encodings.");
        int r = explanation.Regions;
        IReadOnlyList<string> words;
        float[][] rows;
        string kind;
        if (explanation.Kind == ExplanationKind.WordRegionAttention)
        {
            kind = "word_region_attention";
            words = ["<start>", .. tokens.Select(t => t.Known ? t.Word : t.Word + " (<unk>)"), "<end>"];
            rows = Enumerable.Range(0, explanation.Words).Select(w => explanation.Weights.AsSpan(w * r, r).ToArray()).ToArray();
        }
        else
        {
            kind = "region_contributions";
            words = [query!.Trim()];
            rows = [explanation.Weights];
        }
        return new ExplainResponse(query!, id, item.Id, kind, explanation.Meaning, explanation.Score, words, r, Gallery.GridOf(r), rows,
            explanation.Relevance, ThumbnailUrl(id));
    }

    /// <summary>A gallery image by id; an unknown id is 404.</summary>
    public GalleryItem Item(int id)
    {
        if ((uint)id >= (uint)Gallery.Items.Count) throw new ServeException(404, $"No gallery item {id} (ids run from 0 to {Gallery.Items.Count - 1}).");
        return Gallery.Items[id];
    }

    /// <summary>The item with its captions.</summary>
    public ItemResponse ItemDetails(int id)
    {
        var item = Item(id);
        var captions = Gallery.CaptionsOf(id).Select(c => Gallery.Captions[c].Text).ToArray();
        return new ItemResponse(id, item.Id, captions, Gallery.ImagePath(id) is null ? null : ThumbnailUrl(id));
    }

    /// <summary>Checks a query against the limits and maps it through the vocabulary.</summary>
    internal (int[] Ids, QueryToken[] Tokens) ParseQuery(string? query)
    {
        if (string.IsNullOrWhiteSpace(query)) throw new ServeException(400, "The query is empty: pass some words as q.");
        if (query.Length > Options.MaxQueryLength) throw new ServeException(400, $"The query has {query.Length} characters; the limit is {Options.MaxQueryLength}.");
        var words = WordTokenizer.TokenizeCaption(query);
        if (words.Count == 0) throw new ServeException(400, "The query has no words.");
        var vocab = Gallery.Model.Vocabulary;
        var tokens = words.Select(w => { int id = vocab.IdOf(w); return new QueryToken(w, id, id != vocab.UnkId || vocab.Contains(w)); }).ToArray();
        int[] ids = [vocab.StartId, .. tokens.Select(t => t.Id), vocab.EndId];
        return (ids, tokens);
    }

    /// <summary>Positions of the <paramref name="k"/> best scores: higher first, then lower id.</summary>
    private static int[] TopK(float[] scores, int[] ids, int k)
    {
        var order = Enumerable.Range(0, scores.Length).ToArray();
        Array.Sort(order, (a, b) => scores[b].CompareTo(scores[a]) is var c && c != 0 ? c : ids[a].CompareTo(ids[b]));
        return order[..Math.Min(k, order.Length)];
    }
}
