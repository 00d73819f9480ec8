using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Search.Exact;

namespace CrossModal.Serve;

/// <summary>
/// Builds a <see cref="Gallery"/> in memory from precomp data (the SCAN layout: {split}_ims.npy, {split}_caps.txt,
/// {split}_ids.txt) and a model. This is the serving project's own smallest gallery builder, written while the
/// gallery index files of issue 17 were not there yet; once they are, serving an index file replaces it.
/// </summary>
public static class GalleryBuilder
{
    /// <summary>
    /// Encodes the images of <paramref name="splits"/> of <paramref name="dataDirectory"/> (in that order: ids run
    /// across splits) with <paramref name="model"/>, and starts encoding their captions in the background.
    /// <paramref name="imagesDirectory"/> holds the image files named in {split}_ids.txt (for thumbnails). Without
    /// <paramref name="encodeCaptions"/> the gallery serves text queries only (image search answers 503).
    /// </summary>
    public static Gallery FromPrecomp(ModelHandle model, string dataDirectory, IReadOnlyList<string> splits, string? imagesDirectory,
        CancellationToken cancellationToken = default, bool encodeCaptions = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (splits.Count == 0) throw new ArgumentException("Name at least one split (e.g. test).");
        if (imagesDirectory is not null && !Directory.Exists(imagesDirectory))
            throw new DirectoryNotFoundException($"Image folder not found: {imagesDirectory}");
        var items = new List<GalleryItem>();
        var captions = new List<string>();
        var captionImage = new List<int>();
        var tokens = new List<int[]>();
        var features = new List<float[]>();
        int regions = -1, dim = -1;
        foreach (var split in splits)
        {
            using var data = PrecompDataset.Open(dataDirectory, split, model.Vocabulary, cancellationToken: cancellationToken);
            if (regions < 0) (regions, dim) = (data.Regions, data.FeatureDim);
            else if (data.Regions != regions || data.FeatureDim != dim)
                throw new InvalidDataException($"{data.FeaturesPath}: {data.Regions} x {data.FeatureDim} features per image, the earlier splits have {regions} x {dim}.");
            if (dim != model.Config.ImgDim)
                throw new InvalidDataException($"{data.FeaturesPath}: features of width {dim}, the model {model.Source} expects img_dim {model.Config.ImgDim}.");
            var block = new float[checked(data.ImageCount * data.ImageLength)];
            for (int i = 0; i < data.ImageCount; i++) data.ImageFeatures(i).CopyTo(block.AsSpan(i * data.ImageLength));
            features.Add(block);
            int firstImage = items.Count;
            var perImage = new int[data.ImageCount];
            var first = new int[data.ImageCount];
            Array.Fill(first, -1);
            for (int c = 0; c < data.CaptionCount; c++)
            {
                int image = data.ImageOf(c);
                if (first[image] < 0) first[image] = captions.Count;
                perImage[image]++;
                captions.Add(data.CaptionText(c));
                captionImage.Add(firstImage + image);
                tokens.Add(data.CaptionTokens(c).ToArray());
            }
            for (int i = 0; i < data.ImageCount; i++)
            {
                string name = data.ImageIds is { } ids ? ids[i] : $"{split}/{i}";
                string? path = imagesDirectory is null ? null : Path.GetFullPath(Path.Combine(imagesDirectory, Path.GetFileName(name)));
                if (path is not null && !File.Exists(path)) path = null;
                items.Add(new GalleryItem(firstImage + i, name, path, Math.Max(0, first[i]), perImage[i]));
            }
        }

        var all = new float[features.Sum(f => (long)f.Length)];
        long offset = 0;
        foreach (var f in features) { f.CopyTo(all, offset); offset += f.Length; }
        var images = model.EncodeImages(all, items.Count, regions, dim);
        var prerank = new ExactIndex(model.EmbedSize);
        prerank.Add(Pooled(images), cancellationToken);
        var tokenArray = tokens.ToArray();
        var captionEncodings = encodeCaptions
            ? Task.Run(() => model.EncodeCaptions(tokenArray), CancellationToken.None)
            : Task.FromException<EmbeddingSet>(new InvalidOperationException("this server was started for text queries only"));
        string description = $"{model.Family.Name} model {model.Source}; {items.Count} images of {dataDirectory} ({string.Join(", ", splits)})";
        return new Gallery(model, items, all, regions, dim, images, prerank, captions, [.. captionImage], captionEncodings, description);
    }

    /// <summary>One unit vector per item: the mean of its rows (regions or words), normalised.</summary>
    internal static float[] Pooled(EmbeddingSet set)
    {
        int d = set.Dim;
        var pooled = new float[checked(set.Count * d)];
        for (int i = 0; i < set.Count; i++) Pool(set.Item(i), d, pooled.AsSpan(i * d, d));
        return pooled;
    }

    /// <summary>The normalised mean of the rows of <paramref name="rows"/> into <paramref name="output"/> (a zero mean becomes the first unit vector).</summary>
    internal static void Pool(ReadOnlySpan<float> rows, int d, Span<float> output)
    {
        output.Clear();
        int n = rows.Length / d;
        for (int r = 0; r < n; r++)
            System.Numerics.Tensors.TensorPrimitives.Add(output, rows.Slice(r * d, d), output);
        float norm = System.Numerics.Tensors.TensorPrimitives.Norm(output);
        if (norm > 0 && float.IsFinite(norm)) System.Numerics.Tensors.TensorPrimitives.Divide(output, norm, output);
        else { output.Clear(); output[0] = 1; }
    }
}
