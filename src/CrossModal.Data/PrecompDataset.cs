using CrossModal.Data.Precomp;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Text;

namespace CrossModal.Data;

/// <summary>
/// One split of a SCAN/VSE++ "precomp" data folder: <c>{split}_ims.npy</c> (N x D global features or
/// N x R x D region features, float32; IMRAM's name <c>{split}_feat.npy</c> is accepted too), <c>{split}_caps.txt</c>
/// (UTF-8, one caption per line, 5 consecutive captions per image, or one row of features per caption) and the
/// optional <c>{split}_ids.txt</c> (one image id per feature row). The features are memory-mapped, not read: opening
/// COCO's 33 GB training split costs what reading its captions costs. Captions are encoded once with the
/// vocabulary on opening.
/// </summary>
/// <remarks>
/// The originals' indexing rules hold: item k is caption k and image k / <see cref="ImageDivisor"/>, where the
/// divisor is 1 when the feature file has one row per caption and 5 otherwise (decided on the full file, before any
/// truncation); validation sets are truncated to the first 5,000 captions by passing <c>maxCaptions: 5000</c>.
/// Reading features is thread-safe; spans returned by <see cref="ImageFeatures"/> are valid until disposal.
/// </remarks>
public sealed class PrecompDataset : IDisposable
{
    private readonly NpyMapped _features;
    private readonly EncodedCaptions _captions;
    private readonly string[] _texts;

    private PrecompDataset(string directory, string split, NpyMapped features, string captionsPath, string[] texts,
        EncodedCaptions captions, int imageDivisor, string[]? imageIds, Vocabulary vocabulary)
    {
        Directory = directory;
        Split = split;
        _features = features;
        CaptionsPath = captionsPath;
        _texts = texts;
        _captions = captions;
        ImageDivisor = imageDivisor;
        ImageIds = imageIds;
        Vocabulary = vocabulary;
        Regions = features.Shape.Length == 3 ? features.Shape[1] : 0;
        FeatureDim = features.Shape[^1];
        ImageCount = imageDivisor == 1 ? texts.Length : (texts.Length + imageDivisor - 1) / imageDivisor;
    }

    /// <summary>The data folder.</summary>
    public string Directory { get; }

    /// <summary>The split name (train, dev, test, testall, ...).</summary>
    public string Split { get; }

    /// <summary>The feature file.</summary>
    public string FeaturesPath => _features.Path;

    /// <summary>The caption file.</summary>
    public string CaptionsPath { get; }

    /// <summary>The vocabulary the captions were encoded with.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Feature rows used: the images covered by the (possibly truncated) captions.</summary>
    public int ImageCount { get; }

    /// <summary>Number of captions (after truncation by <c>maxCaptions</c>).</summary>
    public int CaptionCount => _texts.Length;

    /// <summary>Regions per image (36 for BUTD features), or 0 for one global vector per image.</summary>
    public int Regions { get; }

    /// <summary>Feature size per region (or per image for global features).</summary>
    public int FeatureDim { get; }

    /// <summary>Floats per image: Regions x FeatureDim, or FeatureDim.</summary>
    public int ImageLength => Math.Max(1, Regions) * FeatureDim;

    /// <summary>5 when the feature file has one row per image, 1 when it has one row per caption (the originals' im_div).</summary>
    public int ImageDivisor { get; }

    /// <summary>Image ids from <c>{split}_ids.txt</c> (one per feature row), or null when the file is absent.</summary>
    public IReadOnlyList<string>? ImageIds { get; }

    /// <summary>The feature row of caption <paramref name="caption"/>.</summary>
    public int ImageOf(int caption)
    {
        if ((uint)caption >= (uint)CaptionCount) throw new ArgumentOutOfRangeException(nameof(caption), caption, $"{Split} has {CaptionCount} captions.");
        return caption / ImageDivisor;
    }

    /// <summary>The features of image <paramref name="image"/>: Regions x FeatureDim floats row-major, or FeatureDim.</summary>
    public ReadOnlySpan<float> ImageFeatures(int image)
    {
        if ((uint)image >= (uint)ImageCount) throw new ArgumentOutOfRangeException(nameof(image), image, $"{Split} has {ImageCount} images.");
        return _features.Row(image);
    }

    /// <summary>Ids of caption <paramref name="caption"/>: &lt;start&gt;, the words, &lt;end&gt;.</summary>
    public IReadOnlyList<int> CaptionIds(int caption)
    {
        CheckCaption(caption);
        return new ArraySegment<int>(_captions.Ids, _captions.Offsets[caption], _captions.Length(caption));
    }

    /// <summary>Ids of caption <paramref name="caption"/> as a span (no allocation).</summary>
    public ReadOnlySpan<int> CaptionTokens(int caption)
    {
        CheckCaption(caption);
        return _captions[caption];
    }

    /// <summary>Length of caption <paramref name="caption"/> in ids, including &lt;start&gt; and &lt;end&gt;.</summary>
    public int CaptionLength(int caption)
    {
        CheckCaption(caption);
        return _captions.Length(caption);
    }

    /// <summary>The caption as written in the file (surrounding whitespace removed).</summary>
    public string CaptionText(int caption)
    {
        CheckCaption(caption);
        return _texts[caption];
    }

    /// <summary>
    /// The features of <paramref name="images"/> stacked in that order: [B, R, D] for region features, [B, D] for
    /// global ones. Created with <see cref="Tensor.Empty"/>, so inside a <see cref="TensorScope"/> it is pooled.
    /// </summary>
    public Tensor GatherImages(ReadOnlySpan<int> images)
    {
        var t = Regions > 0 ? Tensor.Empty(images.Length, Regions, FeatureDim) : Tensor.Empty(images.Length, FeatureDim);
        var dst = t.Data;
        int len = ImageLength;
        for (int i = 0; i < images.Length; i++) ImageFeatures(images[i]).CopyTo(dst.Slice(i * len, len));
        return t;
    }

    /// <summary>
    /// A batch of the given captions with their images, sorted by caption length (descending, ties in the given
    /// order) and zero-padded, as the originals' collate function builds it.
    /// </summary>
    public Batch CreateBatch(ReadOnlySpan<int> captions) => Batch.Create(this, captions);

    /// <summary>
    /// Opens split <paramref name="split"/> of the precomp folder <paramref name="dataDirectory"/> and checks it: the
    /// caption count must be 5 x (or 1 x) the feature rows, features must be finite (skip with
    /// <paramref name="checkFeatures"/> = false for huge trusted files: the check reads every page once),
    /// captions must be valid UTF-8 and non-empty and hold at least one word of the vocabulary, and ids (if present)
    /// must match the rows. Every failure is one exception naming the file (and the row or line).
    /// </summary>
    /// <param name="dataDirectory">Folder with the split's files.</param>
    /// <param name="split">train, dev, test, testall, ...</param>
    /// <param name="vocabulary">Vocabulary the captions are encoded with.</param>
    /// <param name="maxCaptions">Keep only the first captions (the originals validate on the first 5,000 dev captions).</param>
    /// <param name="checkFeatures">Scan the features for NaN and infinity.</param>
    /// <param name="cancellationToken">Cancels the checks and the encoding.</param>
    public static PrecompDataset Open(string dataDirectory, string split, Vocabulary vocabulary, int? maxCaptions = null,
        bool checkFeatures = true, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentException.ThrowIfNullOrEmpty(split);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (maxCaptions is <= 0) throw new ArgumentOutOfRangeException(nameof(maxCaptions), maxCaptions, "maxCaptions must be positive.");
        if (!System.IO.Directory.Exists(dataDirectory)) throw new DirectoryNotFoundException($"{dataDirectory}: data folder not found.");

        var (featuresPath, captionsPath) = LocateSplit(dataDirectory, split);
        string idsPath = Path.Combine(dataDirectory, $"{split}_ids.txt");

        var features = NpyMapped.Open(featuresPath);
        try
        {
            var shape = features.Shape;
            if (shape.Length is not (2 or 3))
                throw new InvalidDataException($"{featuresPath}: expected features of shape (N, D) or (N, R, D); found {NumpyShape(shape)}.");
            if (shape[0] == 0) throw new InvalidDataException($"{featuresPath}: the feature file is empty (shape {NumpyShape(shape)}).");
            if (shape.Skip(1).Any(d => d == 0)) throw new InvalidDataException($"{featuresPath}: images have no feature values (shape {NumpyShape(shape)}).");

            var lines = TextLines.Read(captionsPath);
            if (lines.Length == 0) throw new InvalidDataException($"{captionsPath}: the caption file is empty.");
            var texts = new string[lines.Length];
            for (int i = 0; i < lines.Length; i++)
            {
                texts[i] = lines[i].Trim();
                if (texts[i].Length == 0)
                    throw new InvalidDataException($"{captionsPath}: line {i + 1} is empty; every line must hold one caption (5 consecutive lines per image).");
            }

            int rows = shape[0];
            int divisor;
            if (texts.Length == rows) divisor = 1;
            else if (texts.Length == 5L * rows) divisor = 5;
            else
                throw new InvalidDataException(
                    $"{captionsPath}: {texts.Length} captions for {rows} images in {featuresPath}; expected 5 x {rows} = {5L * rows} (5 captions per image) or {rows} (one feature row per caption).");

            string[]? ids = null;
            if (File.Exists(idsPath))
            {
                ids = TextLines.Read(idsPath);
                if (ids.Length != rows)
                    throw new InvalidDataException($"{idsPath}: {ids.Length} image ids for {rows} feature rows in {featuresPath}; expected one id per row.");
                for (int i = 0; i < ids.Length; i++)
                {
                    ids[i] = ids[i].Trim();
                    if (ids[i].Length == 0) throw new InvalidDataException($"{idsPath}: line {i + 1} is empty; expected one image id per line.");
                }
            }

            if (maxCaptions is int max && max < texts.Length) texts = texts[..max];
            if (checkFeatures) FeatureCheck.ThrowIfNotFinite(features, cancellationToken);
            var encoded = EncodedCaptions.Encode(texts, vocabulary, cancellationToken);
            if (encoded.FirstWithoutKnownWord(vocabulary.UnkId) is var unknown and >= 0)
                throw new InvalidDataException(
                    $"{captionsPath}: line {unknown + 1} (\"{Shorten(texts[unknown])}\") has no word the vocabulary knows (every token is <unk>); " +
                    $"check that the vocabulary ({vocabulary.Count} words) belongs to this data.");
            return new PrecompDataset(dataDirectory, split, features, captionsPath, texts, encoded, divisor, ids, vocabulary);
        }
        catch
        {
            features.Dispose();
            throw;
        }
    }

    /// <summary>The splits present in <paramref name="dataDirectory"/> (names with both a feature and a caption file).</summary>
    public static IReadOnlyList<string> FindSplits(string dataDirectory)
    {
        if (!System.IO.Directory.Exists(dataDirectory)) return [];
        var splits = new List<string>();
        foreach (var caps in System.IO.Directory.EnumerateFiles(dataDirectory, "*_caps.txt"))
        {
            string name = Path.GetFileName(caps);
            string split = name[..^"_caps.txt".Length];
            if (File.Exists(Path.Combine(dataDirectory, $"{split}_ims.npy")) || File.Exists(Path.Combine(dataDirectory, $"{split}_feat.npy")))
                splits.Add(split);
        }
        splits.Sort(StringComparer.Ordinal);
        return splits;
    }

    private static (string Features, string Captions) LocateSplit(string dir, string split)
    {
        string ims = Path.Combine(dir, $"{split}_ims.npy");
        string feat = Path.Combine(dir, $"{split}_feat.npy");
        string caps = Path.Combine(dir, $"{split}_caps.txt");
        string? features = File.Exists(ims) ? ims : File.Exists(feat) ? feat : null;
        bool hasCaps = File.Exists(caps);
        if (features is not null && hasCaps) return (features, caps);
        var missing = new List<string>();
        if (features is null) missing.Add($"{split}_ims.npy (or {split}_feat.npy)");
        if (!hasCaps) missing.Add($"{split}_caps.txt");
        var present = FindSplits(dir);
        string available = present.Count > 0 ? $"splits present: {string.Join(", ", present)}" : "no complete split is present";
        throw new FileNotFoundException(
            $"{dir}: split '{split}' not found: missing {string.Join(" and ", missing)} ({available}).",
            features is null ? ims : caps);
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";

    // numpy's spelling of a shape, as users see it in Python: (762, 36, 512).
    private static string NumpyShape(int[] shape) => shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";

    private void CheckCaption(int caption)
    {
        if ((uint)caption >= (uint)CaptionCount) throw new ArgumentOutOfRangeException(nameof(caption), caption, $"{Split} has {CaptionCount} captions.");
    }

    /// <summary>Unmaps the feature file.</summary>
    public void Dispose() => _features.Dispose();
}
