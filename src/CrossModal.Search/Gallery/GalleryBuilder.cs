using CrossModal.Data;
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
    public static void AddPrecomp(GalleryIndex gallery, ModelHandle model, PrecompDataset data, string? imageFolder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Regions != gallery.Metadata.FeatureRegions || data.FeatureDim != gallery.Metadata.FeatureDim)
            throw new InvalidDataException($"{data.FeaturesPath}: features of {Shape(data.Regions, data.FeatureDim)} per image; the gallery holds images of {Shape(gallery.Metadata.FeatureRegions, gallery.Metadata.FeatureDim)}.");
        string IdOf(int image) => data.ImageIds?[image] ?? $"{data.Split}:{image}";
        string PathOf(int image) => imageFolder is null ? "" : Path.GetFullPath(Path.Combine(imageFolder, IdOf(image)));
        int length = data.ImageLength;
        for (int start = 0; start < data.ImageCount; start += Batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(Batch, data.ImageCount - start);
            var features = new float[count * length];
            var items = new GalleryItem[count];
            for (int i = 0; i < count; i++)
            {
                data.ImageFeatures(start + i).CopyTo(features.AsSpan(i * length, length));
                items[i] = new GalleryItem(IdOf(start + i), PathOf(start + i), "");
            }
            gallery.AddImages(model, features, items, Batch, cancellationToken);
        }
        if (gallery.Captions is null) return;
        for (int start = 0; start < data.CaptionCount; start += Batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(Batch, data.CaptionCount - start);
            var items = new GalleryItem[count];
            for (int j = 0; j < count; j++)
            {
                int c = start + j, image = data.ImageOf(c);
                items[j] = new GalleryItem($"{IdOf(image)}#{c % data.ImageDivisor}", PathOf(image), data.CaptionText(c));
            }
            gallery.AddCaptions(model, items, cancellationToken);
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
