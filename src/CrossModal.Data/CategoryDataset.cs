using CrossModal.Data.Precomp;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Text;

namespace CrossModal.Data;

/// <summary>
/// A category-labelled cross-modal split (Wikipedia, Pascal Sentences, ...): row i of every file is one image/text
/// pair with one class label; retrieval counts an item as relevant when its class equals the query's (mAP).
/// Layout: <c>{split}_img_{name}.npy</c> (N x Di), <c>{split}_txt_{name}.npy</c> (N x Dt), <c>{split}_labels.txt</c>
/// (0-based class per line), optional <c>categories.txt</c> (class names, one per line),
/// <c>{split}_texts.txt</c> (raw text per line) and <c>{split}_ids.tsv</c> (header, then text id and image id per
/// row). The feature files are small and are read into memory. This is the general labelled-pairs layout: bring any
/// set (Pascal Sentences, NUS-WIDE, XMediaNet features) by writing these files; float32 .npy, labels 0-based.
/// Bad input is one error naming the file: row counts that disagree between features, labels, texts and ids; a
/// label that is not an integer or lies outside categories.txt; NaN or infinite features (file and row).
/// </summary>
public sealed class CategoryDataset
{
    private CategoryDataset(string directory, string split, string imagePath, Tensor images, string textPath, Tensor texts,
        int[] labels, int classCount, string[]? categories, string[]? rawTexts, string[]? textIds, string[]? imageIds)
    {
        Directory = directory;
        Split = split;
        ImageFeaturesPath = imagePath;
        ImageFeatures = images;
        TextFeaturesPath = textPath;
        TextFeatures = texts;
        Labels = labels;
        ClassCount = classCount;
        Categories = categories;
        Texts = rawTexts;
        TextIds = textIds;
        ImageIds = imageIds;
    }

    /// <summary>The data folder.</summary>
    public string Directory { get; }

    /// <summary>The split name.</summary>
    public string Split { get; }

    /// <summary>Number of image/text pairs.</summary>
    public int Count => Labels.Count;

    /// <summary>The image feature file.</summary>
    public string ImageFeaturesPath { get; }

    /// <summary>Image features [N, Di] (a plain tensor, not pooled).</summary>
    public Tensor ImageFeatures { get; }

    /// <summary>The text feature file.</summary>
    public string TextFeaturesPath { get; }

    /// <summary>Text features [N, Dt] (a plain tensor, not pooled).</summary>
    public Tensor TextFeatures { get; }

    /// <summary>Class of each pair, 0-based.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>Number of classes: the lines of categories.txt, else the largest label + 1.</summary>
    public int ClassCount { get; }

    /// <summary>Class names from categories.txt (index = label), or null.</summary>
    public IReadOnlyList<string>? Categories { get; }

    /// <summary>Raw text of each pair from {split}_texts.txt, or null.</summary>
    public IReadOnlyList<string>? Texts { get; }

    /// <summary>Text ids from {split}_ids.tsv, or null.</summary>
    public IReadOnlyList<string>? TextIds { get; }

    /// <summary>Image ids from {split}_ids.tsv, or null.</summary>
    public IReadOnlyList<string>? ImageIds { get; }

    /// <summary>
    /// The pairs whose class is in <paramref name="classes"/>, in their original order, with their original labels
    /// (so relevance and class names stay those of the full dataset): the seen classes' training pairs or the
    /// unseen classes' test pairs of a <see cref="Category.ClassSplit"/>.
    /// </summary>
    public CategoryDataset Select(IReadOnlyCollection<int> classes)
    {
        foreach (int c in classes)
            if ((uint)c >= (uint)ClassCount) throw new ArgumentException($"{Directory}: class {c} does not exist (the dataset has classes 0..{ClassCount - 1}).");
        var keep = new HashSet<int>(classes);
        var rows = Enumerable.Range(0, Count).Where(i => keep.Contains(Labels[i])).ToArray();
        if (rows.Length == 0) throw new InvalidOperationException($"{Directory}: split '{Split}' has no pair of classes {string.Join(", ", classes)}.");
        return new CategoryDataset(Directory, Split, ImageFeaturesPath, Gather(ImageFeatures, rows), TextFeaturesPath, Gather(TextFeatures, rows),
            rows.Select(i => Labels[i]).ToArray(), ClassCount, Categories?.ToArray(), Texts is null ? null : rows.Select(i => Texts[i]).ToArray(),
            TextIds is null ? null : rows.Select(i => TextIds[i]).ToArray(), ImageIds is null ? null : rows.Select(i => ImageIds[i]).ToArray());
    }

    /// <summary>
    /// The same pairs with other text features (e.g. TF-IDF vectors computed from <see cref="Texts"/>):
    /// <paramref name="features"/> is [Count x D]; <paramref name="description"/> replaces the text feature path in
    /// messages.
    /// </summary>
    public CategoryDataset WithTextFeatures(Tensor features, string description)
    {
        if (features.Rank != 2 || features.Dim(0) != Count)
            throw new ArgumentException($"{description}: expected {Count} rows of text features, got shape ({string.Join(", ", features.Shape)}).");
        return new CategoryDataset(Directory, Split, ImageFeaturesPath, ImageFeatures, description, features, Labels.ToArray(), ClassCount,
            Categories?.ToArray(), Texts?.ToArray(), TextIds?.ToArray(), ImageIds?.ToArray());
    }

    /// <summary>Labels as an array (for the span-based metric and model APIs).</summary>
    public int[] LabelArray() => Labels.ToArray();

    private static Tensor Gather(Tensor features, int[] rows)
    {
        int d = features.Dim(1);
        var result = new float[rows.Length * d];
        for (int r = 0; r < rows.Length; r++) features.Data.Slice(rows[r] * d, d).CopyTo(result.AsSpan(r * d, d));
        return Tensor.FromArray(result, rows.Length, d);
    }

    /// <summary>Number of pairs of each class.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (int l in Labels) counts[l]++;
        return counts;
    }

    /// <summary>
    /// Opens split <paramref name="split"/> of <paramref name="dataDirectory"/>. When the folder holds several
    /// feature files per modality, <paramref name="imageFeatures"/>/<paramref name="textFeatures"/> pick one by
    /// name (the part after <c>{split}_img_</c>/<c>{split}_txt_</c>, e.g. "sift_bovw128"). Row counts must agree
    /// across files, labels must be integers in range, features finite; each failure is one error naming the file.
    /// </summary>
    public static CategoryDataset Open(string dataDirectory, string split, string? imageFeatures = null, string? textFeatures = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentException.ThrowIfNullOrEmpty(split);
        if (!System.IO.Directory.Exists(dataDirectory)) throw new DirectoryNotFoundException($"{dataDirectory}: data folder not found.");

        string imagePath = FindFeatures(dataDirectory, split, "img", imageFeatures);
        string textPath = FindFeatures(dataDirectory, split, "txt", textFeatures);
        string labelsPath = Path.Combine(dataDirectory, $"{split}_labels.txt");
        if (!File.Exists(labelsPath)) throw new FileNotFoundException($"{dataDirectory}: split '{split}' has no {split}_labels.txt (one 0-based class per line).", labelsPath);

        var images = ReadMatrix(imagePath);
        var texts = ReadMatrix(textPath);
        int n = images.Dim(0);
        if (texts.Dim(0) != n)
            throw new InvalidDataException($"{textPath}: {texts.Dim(0)} rows but {imagePath} has {n}; row i of every file must be the same pair.");

        string[]? categories = null;
        string categoriesPath = Path.Combine(dataDirectory, "categories.txt");
        if (File.Exists(categoriesPath))
        {
            categories = TextLines.Read(categoriesPath).Select(l => l.Trim()).ToArray();
            if (categories.Length == 0 || categories.Any(c => c.Length == 0))
                throw new InvalidDataException($"{categoriesPath}: expected one non-empty class name per line.");
        }

        var labelLines = TextLines.Read(labelsPath);
        if (labelLines.Length != n)
            throw new InvalidDataException($"{labelsPath}: {labelLines.Length} labels for {n} rows in {imagePath}; expected one label per row.");
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            if (!int.TryParse(labelLines[i].Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out labels[i]) || labels[i] < 0)
                throw new InvalidDataException($"{labelsPath}: line {i + 1} is '{labelLines[i]}'; expected a 0-based class index.");
            if (categories is not null && labels[i] >= categories.Length)
                throw new InvalidDataException($"{labelsPath}: line {i + 1} has class {labels[i]} but {categoriesPath} lists {categories.Length} classes (0..{categories.Length - 1}).");
        }
        int classCount = categories?.Length ?? labels.Max() + 1;

        string[]? raw = null;
        string textsPath = Path.Combine(dataDirectory, $"{split}_texts.txt");
        if (File.Exists(textsPath))
        {
            raw = TextLines.Read(textsPath);
            if (raw.Length != n) throw new InvalidDataException($"{textsPath}: {raw.Length} texts for {n} rows in {imagePath}; expected one text per row.");
        }

        string[]? textIds = null, imageIds = null;
        string idsPath = Path.Combine(dataDirectory, $"{split}_ids.tsv");
        if (File.Exists(idsPath))
        {
            var lines = TextLines.Read(idsPath);
            if (lines.Length != n + 1)
                throw new InvalidDataException($"{idsPath}: {Math.Max(0, lines.Length - 1)} id rows (after the header) for {n} rows in {imagePath}.");
            textIds = new string[n];
            imageIds = new string[n];
            for (int i = 0; i < n; i++)
            {
                var cols = lines[i + 1].Split('\t');
                if (cols.Length < 2) throw new InvalidDataException($"{idsPath}: line {i + 2} has {cols.Length} column(s); expected text_id<TAB>image_id.");
                textIds[i] = cols[0];
                imageIds[i] = cols[1];
            }
        }
        return new CategoryDataset(dataDirectory, split, imagePath, images, textPath, texts, labels, classCount, categories, raw, textIds, imageIds);
    }

    private static Tensor ReadMatrix(string path)
    {
        using (var mapped = NpyMapped.Open(path))
        {
            if (mapped.Shape.Length != 2 || mapped.Shape[0] == 0 || mapped.Shape[1] == 0)
                throw new InvalidDataException($"{path}: expected a non-empty N x D feature matrix; found shape ({string.Join(", ", mapped.Shape)}).");
            FeatureCheck.ThrowIfNotFinite(mapped, CancellationToken.None, "row");
        }
        return Npy.ReadFloat32(path);
    }

    private static string FindFeatures(string dir, string split, string modality, string? name)
    {
        string prefix = $"{split}_{modality}_";
        if (name is not null)
        {
            string path = Path.Combine(dir, $"{prefix}{name}.npy");
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: feature file not found.", path);
            return path;
        }
        var found = System.IO.Directory.GetFiles(dir, $"{prefix}*.npy");
        Array.Sort(found, StringComparer.Ordinal);
        if (found.Length == 1) return found[0];
        string what = modality == "img" ? "image" : "text";
        if (found.Length == 0)
            throw new FileNotFoundException($"{dir}: split '{split}' has no {what} features (looked for {prefix}*.npy).", Path.Combine(dir, $"{prefix}*.npy"));
        throw new ArgumentException(
            $"{dir}: split '{split}' has several {what} feature files ({string.Join(", ", found.Select(Path.GetFileName))}); name one (the part after '{prefix}').");
    }
}
