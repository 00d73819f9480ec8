using CrossModal.Data;
using CrossModal.Distributed;
using CrossModal.Evaluation;
using CrossModal.Models;
using CrossModal.Vision.Features;

namespace CrossModal.Search.Gallery;

/// <summary>Fills a gallery from the two sources the CLI knows: a precomp split, or image files through an ONNX CNN.</summary>
public static class GalleryBuilder
{
    /// <summary>Images encoded per model call.</summary>
    private const int Batch = 128;

    /// <summary>
    /// Adds every image of <paramref name="data"/> (ids from <c>{split}_ids.txt</c>, else the row number; paths under
    /// <paramref name="imageFolder"/> when given) and, when the gallery keeps captions, every caption
    /// (id "imageId#n").
    /// </summary>
    public static void AddPrecomp(GalleryIndex gallery, ModelHandle model, PrecompDataset data, string? imageFolder, CancellationToken cancellationToken = default) =>
        AddPrecomp(gallery, model, data, imageFolder, new SingleProcessCommunicator(), cancellationToken);

    /// <summary>
    /// <see cref="AddPrecomp(GalleryIndex, ModelHandle, PrecompDataset, string?, CancellationToken)"/> with the
    /// encoding shared among <paramref name="ranks"/> (every rank calls it with the same arguments); only rank 0's
    /// <paramref name="gallery"/> receives the items, the others' stays as it was. The items are encoded in the
    /// batches of 128 one process encodes, dealt out in rounds: in round k rank r encodes batch k·N + r, and rank 0
    /// gathers the round's batches and appends them in batch order. Every encoding is thus one the single process
    /// computes on the same inputs, so rank 0's gallery is bit-identical to one process's, and rank 0 holds at most
    /// one batch per rank in float32 besides the gallery (a contiguous range per rank would make it hold all of
    /// them until the last rank's turn). A failure on any rank leaves the galleries unsaved: the caller (the CLI's
    /// rank session) ends the job with that rank's message.
    /// </summary>
    public static void AddPrecomp(GalleryIndex gallery, ModelHandle model, PrecompDataset data, string? imageFolder, ICommunicator ranks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(ranks);
        if (data.Regions != gallery.Metadata.FeatureRegions || data.FeatureDim != gallery.Metadata.FeatureDim)
            throw new InvalidDataException($"{data.FeaturesPath}: features of {Shape(data.Regions, data.FeatureDim)} per image; the gallery holds images of {Shape(gallery.Metadata.FeatureRegions, gallery.Metadata.FeatureDim)}.");
        string IdOf(int image) => data.ImageIds?[image] ?? $"{data.Split}:{image}";
        string PathOf(int image) => imageFolder is null ? "" : Path.GetFullPath(Path.Combine(imageFolder, IdOf(image)));
        int length = data.ImageLength;
        EachBatch(ranks, data.ImageCount, model.EmbedSize, cancellationToken, (start, count) =>
        {
            var features = new float[count * length];
            for (int i = 0; i < count; i++) data.ImageFeatures(start + i).CopyTo(features.AsSpan(i * length, length));
            return gallery.EncodeImages(model, features, count, Batch);
        }, (start, encoded) =>
        {
            var items = new GalleryItem[encoded.Count];
            for (int i = 0; i < items.Length; i++) items[i] = new GalleryItem(IdOf(start + i), PathOf(start + i), "");
            gallery.Images.Add(encoded, items, cancellationToken);
        });
        if (gallery.Captions is not { } captions) return;
        EachBatch(ranks, data.CaptionCount, model.EmbedSize, cancellationToken, (start, count) =>
            gallery.EncodeCaptions(model, Enumerable.Range(start, count).Select(data.CaptionText).ToList()), (start, encoded) =>
        {
            var items = new GalleryItem[encoded.Count];
            for (int j = 0; j < items.Length; j++)
            {
                int c = start + j, image = data.ImageOf(c);
                items[j] = new GalleryItem($"{IdOf(image)}#{c % data.ImageDivisor}", PathOf(image), data.CaptionText(c));
            }
            captions.Add(encoded, items, cancellationToken);
        });
    }

    /// <summary>
    /// The batches of <see cref="Batch"/> items of [0, <paramref name="total"/>) in rounds of one per rank:
    /// <paramref name="encode"/>(start, count) on the rank whose turn it is, <paramref name="append"/>(start, encoded)
    /// at rank 0 in batch order.
    /// </summary>
    private static void EachBatch(ICommunicator ranks, int total, int dim, CancellationToken cancellationToken,
        Func<int, int, EmbeddingSet> encode, Action<int, EmbeddingSet> append)
    {
        int batches = (total + Batch - 1) / Batch, n = ranks.Size;
        var counts = new int[n];
        for (int first = 0; first < batches; first += n)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int r = 0; r < n; r++) counts[r] = first + r < batches ? Math.Min(Batch, total - (first + r) * Batch) : 0;
            int mine = first + ranks.Rank;
            var encoded = counts[ranks.Rank] > 0 ? encode(mine * Batch, counts[ranks.Rank]) : new EmbeddingSet(dim);
            if (n == 1)
            {
                append(first * Batch, encoded);
                continue;
            }
            var round = EmbeddingExchange.Gather(ranks, encoded, counts);
            if (round is null) continue;
            for (int r = 0, at = 0; r < n && counts[r] > 0; at += counts[r], r++)
            {
                var batch = new EmbeddingSet(dim, round.Items(at, counts[r]).Length);
                for (int i = 0; i < counts[r]; i++) batch.Append(round.Item(at + i));
                append((first + r) * Batch, batch);
            }
        }
    }

    /// <summary>
    /// Decodes the images at <paramref name="paths"/>, extracts their features with <paramref name="extractor"/>,
    /// encodes and adds them (id = file name, path = full path); <paramref name="captions"/> (5 per image, same
    /// order) are added for the images that could be read. Unreadable images are skipped and returned.
    /// </summary>
    public static IReadOnlyList<ImageFailure> AddImages(GalleryIndex gallery, ModelHandle model, FeatureExtractor extractor, IReadOnlyList<string> paths,
        IReadOnlyList<string>? captions = null, IProgress<FeatureProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        ArgumentNullException.ThrowIfNull(extractor);
        ArgumentNullException.ThrowIfNull(paths);
        if (captions is not null && captions.Count != 5 * paths.Count)
            throw new ArgumentException($"{captions.Count} captions for {paths.Count} images (5 per image expected).");
        if (captions is not null && gallery.Captions is null) throw new ArgumentException("The gallery was built without captions.");
        int length = Math.Max(1, gallery.Metadata.FeatureRegions) * gallery.Metadata.FeatureDim;
        var pending = new List<(int Index, float[] Row)>();
        void Flush()
        {
            if (pending.Count == 0) return;
            var features = new float[pending.Count * length];
            var items = new GalleryItem[pending.Count];
            for (int i = 0; i < pending.Count; i++)
            {
                pending[i].Row.CopyTo(features.AsSpan(i * length));
                string full = Path.GetFullPath(paths[pending[i].Index]);
                items[i] = new GalleryItem(Path.GetFileName(full), full, "");
            }
            gallery.AddImages(model, features, items, Batch, cancellationToken);
            if (captions is not null)
            {
                var capItems = new List<GalleryItem>();
                foreach (var (index, _) in pending)
                    for (int j = 0; j < 5; j++)
                        capItems.Add(new GalleryItem($"{Path.GetFileName(paths[index])}#{j}", Path.GetFullPath(paths[index]), captions[5 * index + j].Trim()));
                gallery.AddCaptions(model, capItems, cancellationToken);
            }
            pending.Clear();
        }
        var summary = extractor.Extract(paths, (index, row) =>
        {
            if (row.Length != length)
                throw new InvalidDataException($"{extractor.Runtime.Model.Source}: layer '{extractor.Layer}' gives {row.Length} feature values per image; the gallery's model takes {Shape(gallery.Metadata.FeatureRegions, gallery.Metadata.FeatureDim)} = {length}.");
            pending.Add((index, row.ToArray()));
            if (pending.Count == Batch) Flush();
        }, progress, cancellationToken);
        Flush();
        return summary.Failures;
    }

    /// <summary>The features of one query image through <paramref name="extractor"/>; an unreadable file is one <see cref="InvalidDataException"/>.</summary>
    public static float[] ImageFeatures(FeatureExtractor extractor, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: query image not found.", path);
        float[]? features = null;
        var summary = extractor.Extract([path], (_, row) => features = row.ToArray(), null, cancellationToken);
        if (summary.Failures.Count > 0) throw new InvalidDataException($"{path}: the query could not be read as an image ({summary.Failures[0].Message}).");
        return features!;
    }

    private static string Shape(int regions, int dim) => regions > 0 ? $"{regions} x {dim}" : $"{dim}";
}
