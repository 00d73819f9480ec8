using CrossModal.Data;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Text.Features;
using CrossModal.Text.WordVectors;

namespace CrossModal.Training;

/// <summary>
/// The labelled pairs of a category-level run as its model sees them, rebuilt the same way for training, resuming and
/// evaluation from the data folder and the run's <see cref="CategoryDataOptions"/>: the training split restricted to
/// the classes trained on (all, or the seen classes of an extendable split), text features read from a file or
/// computed as TF-IDF with a vocabulary fitted on exactly those training texts (deterministic, so evaluation refits
/// the same vocabulary instead of storing it), and the class embeddings of those classes. Nothing of the test split
/// and, under the extendable protocol, nothing of the unseen classes enters the features or the class embeddings.
/// </summary>
public sealed class CategoryRunData
{
    private readonly CategoryDataOptions _options;
    private readonly TfidfVectorizer? _tfidf;
    private readonly IReadOnlySet<string> _stopWords;

    private CategoryRunData(string dataPath, CategoryDataOptions options, CategoryDataset train, IReadOnlyList<int> classes, TfidfVectorizer? tfidf,
        IReadOnlySet<string> stopWords, string textFeaturesName)
    {
        DataPath = dataPath;
        _options = options;
        Train = train;
        Classes = classes;
        _tfidf = tfidf;
        _stopWords = stopWords;
        TextFeaturesName = textFeaturesName;
    }

    /// <summary>The data folder.</summary>
    public string DataPath { get; }

    /// <summary>The training pairs of <see cref="Classes"/> (every one of the split's pairs of those classes), in the model's feature space.</summary>
    public CategoryDataset Train { get; }

    /// <summary>The dataset classes the model is trained on, ascending; model class k is dataset class Classes[k].</summary>
    public IReadOnlyList<int> Classes { get; }

    /// <summary>The classes of the dataset that are not trained on (empty under the standard protocol).</summary>
    public IReadOnlyList<int> Unseen => Enumerable.Range(0, Train.ClassCount).Except(Classes).ToArray();

    /// <summary>"lda10", "tfidf5000", ...: the text features' name for logs and tables.</summary>
    public string TextFeaturesName { get; }

    /// <summary>Opens the training split <paramref name="trainSplit"/> of <paramref name="dataPath"/> for a run with <paramref name="options"/>.</summary>
    public static CategoryRunData Open(string dataPath, string trainSplit, CategoryDataOptions? options)
    {
        options ??= new CategoryDataOptions();
        options.Validate();
        bool tfidf = options.TextFeatures == CategoryDataOptions.Tfidf;
        var all = CategoryDataset.Open(dataPath, trainSplit, options.ImageFeatures, tfidf ? null : options.TextFeatures, rawTextsOnly: tfidf);
        int[] classes = options.Seen ?? Enumerable.Range(0, all.ClassCount).ToArray();
        foreach (int c in classes)
            if ((uint)c >= (uint)all.ClassCount) throw new ArgumentException($"{dataPath}: the run trains on class {c}, but the dataset has classes 0..{all.ClassCount - 1}.");
        if (classes.Distinct().Count() != classes.Length || classes.Length < 2)
            throw new ArgumentException($"{dataPath}: a run needs at least two distinct training classes, got {string.Join(", ", classes)}.");
        var train = options.Seen is null ? all : all.Select(classes);
        string stopPath = options.StopWords ?? Path.Combine(dataPath, "stopwords_from_dataset.txt");
        if (options.StopWords is not null && !File.Exists(stopPath)) throw new FileNotFoundException($"{stopPath}: stop-word list not found.", stopPath);
        IReadOnlySet<string> stop = File.Exists(stopPath) ? TermTokenizer.LoadStopWords(stopPath) : new HashSet<string>(StringComparer.Ordinal);
        TfidfVectorizer? vectorizer = null;
        string name = Path.GetFileNameWithoutExtension(train.TextFeaturesPath).Replace($"{trainSplit}_txt_", "", StringComparison.Ordinal);
        if (tfidf)
        {
            vectorizer = TfidfVectorizer.Fit(train.Texts!, stop, options.TfidfTerms);
            train = train.WithTextFeatures(vectorizer.Transform(train.Texts!), $"TF-IDF ({vectorizer.Dimension} terms) of {trainSplit}_texts.txt");
            name = $"tfidf{options.TfidfTerms}";
        }
        return new CategoryRunData(dataPath, options, train, classes.Order().ToArray(), vectorizer, stop, name);
    }

    /// <summary>Split <paramref name="split"/> (e.g. "test", all classes) in the model's feature space; its widths must match the training split's.</summary>
    public CategoryDataset OpenSplit(string split)
    {
        var data = CategoryDataset.Open(DataPath, split, _options.ImageFeatures, _tfidf is null ? _options.TextFeatures : null, rawTextsOnly: _tfidf is not null);
        if (_tfidf is not null) data = data.WithTextFeatures(_tfidf.Transform(data.Texts!), $"TF-IDF ({_tfidf.Dimension} terms) of {split}_texts.txt");
        if (data.ImageFeatures.Dim(1) != Train.ImageFeatures.Dim(1) || data.TextFeatures.Dim(1) != Train.TextFeatures.Dim(1))
            throw new InvalidDataException($"{DataPath}: split '{split}' has {data.ImageFeatures.Dim(1)}-d image and {data.TextFeatures.Dim(1)}-d text features; the model was trained on {Train.ImageFeatures.Dim(1)} and {Train.TextFeatures.Dim(1)}.");
        if (data.ClassCount != Train.ClassCount)
            throw new InvalidDataException($"{DataPath}: split '{split}' has {data.ClassCount} classes, the training split {Train.ClassCount}.");
        return data;
    }

    /// <summary>
    /// The class embeddings of <see cref="Classes"/> [classes, E]: rows of the options' .npy file (which must hold one
    /// row per class of the dataset), or PPMI + SVD word vectors of the class names trained on <see cref="Train"/>'s
    /// raw texts (classvec; the default).
    /// </summary>
    public Tensor ClassEmbeddings(CancellationToken cancellationToken = default)
    {
        string source = _options.ClassEmbeddings ?? CategoryDataOptions.Classvec;
        if (source == CategoryDataOptions.Classvec)
        {
            if (Train.Categories is null)
                throw new FileNotFoundException($"{DataPath}: classvec needs the class names (categories.txt); or give --class-embeddings FILE.npy.", Path.Combine(DataPath, "categories.txt"));
            if (Train.Texts is null)
                throw new FileNotFoundException($"{DataPath}: classvec trains word vectors on the raw training texts ({Train.Split}_texts.txt), which are missing; or give --class-embeddings FILE.npy.");
            var names = Classes.Select(c => Train.Categories[c]).ToArray();
            var (_, vectors) = PpmiWordVectors.TrainForClasses(Train.Texts, names, _stopWords, new PpmiOptions(),
                $"the training texts of classes {string.Join(", ", names)}", cancellationToken);
            return Tensor.FromArray(vectors, names.Length, vectors.Length / names.Length);
        }
        return FromFile(source);
    }

    private Tensor FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: class-embedding file not found.", path);
        var table = Npy.ReadFloat32(path); // its errors name the file
        string classes = Train.Categories is null ? "its labels" : "categories.txt";
        if (table.Rank != 2 || table.Dim(0) != Train.ClassCount || table.Dim(1) == 0)
            throw new InvalidDataException($"{path}: class embeddings of shape ({string.Join(", ", table.Shape)}), but {DataPath} has {Train.ClassCount} classes ({classes}); expected {Train.ClassCount} rows, one per class in that order.");
        int d = table.Dim(1);
        for (int i = 0; i < table.Length; i++)
            if (!float.IsFinite(table.Data[i])) throw new InvalidDataException($"{path}: row {i / d} holds {table.Data[i]}; class embeddings must be finite.");
        var rows = new float[Classes.Count * d];
        for (int k = 0; k < Classes.Count; k++) table.Data.Slice(Classes[k] * d, d).CopyTo(rows.AsSpan(k * d, d));
        return Tensor.FromArray(rows, Classes.Count, d);
    }

    /// <summary>
    /// The rows of <see cref="Train"/> held out for validation: per class (in class order) a permutation drawn from
    /// one generator seeded with <paramref name="seed"/>, whose first round(fraction x count) rows (at least 1 and
    /// at most count - 1 of a class with two or more pairs) are held out. Ascending row indices.
    /// </summary>
    public int[] ValidationRows(double fraction, ulong seed)
    {
        var rng = new Rng(seed);
        var held = new List<int>();
        foreach (int c in Classes)
        {
            var rows = Enumerable.Range(0, Train.Count).Where(i => Train.Labels[i] == c).ToArray();
            if (rows.Length < 2) continue;
            int k = Math.Clamp((int)Math.Round(fraction * rows.Length), 1, rows.Length - 1);
            var perm = rng.Permutation(rows.Length);
            for (int i = 0; i < k; i++) held.Add(rows[perm[i]]);
        }
        held.Sort();
        return held.ToArray();
    }
}
