namespace CrossModal.Training;

/// <summary>
/// How a category-level run reads its labelled-pairs folder (saved with the run's options, so resuming and
/// evaluating rebuild exactly the features the model was trained on): which feature files, TF-IDF text features
/// computed from the raw texts instead, the class embeddings, the classes trained on (the seen classes of an
/// extendable split; null = all) and the validation part held out of the training split.
/// </summary>
public sealed record CategoryDataOptions
{
    /// <summary>The value of <see cref="TextFeatures"/> that computes TF-IDF features from {split}_texts.txt.</summary>
    public const string Tfidf = "tfidf";

    /// <summary>The value of <see cref="ClassEmbeddings"/> that trains PPMI + SVD word vectors of the class names on the run's training texts.</summary>
    public const string Classvec = "classvec";

    /// <summary>Image feature file name (the part after {split}_img_), or null when the folder has one.</summary>
    public string? ImageFeatures { get; init; }

    /// <summary>Text feature file name (the part after {split}_txt_), <see cref="Tfidf"/>, or null when the folder has one file.</summary>
    public string? TextFeatures { get; init; }

    /// <summary>Vocabulary size of TF-IDF features (the most frequent terms of the training texts the run may use).</summary>
    public int TfidfTerms { get; init; } = 5000;

    /// <summary>Stop-word list for TF-IDF and classvec (default: stopwords_from_dataset.txt in the data folder, if present).</summary>
    public string? StopWords { get; init; }

    /// <summary>
    /// Class embeddings for models that use them: a .npy file with one row per class of the dataset (categories.txt
    /// order), or <see cref="Classvec"/> (the default): PPMI + SVD word vectors trained on the run's training texts,
    /// so under the extendable protocol on the seen classes' texts only.
    /// </summary>
    public string? ClassEmbeddings { get; init; }

    /// <summary>Dataset classes trained on (the seen classes, ascending); null = all classes (the standard protocol).</summary>
    public int[]? Seen { get; init; }

    /// <summary>How <see cref="Seen"/> was chosen, for logs ("random split 2 of 5, seed 0").</summary>
    public string? SplitDescription { get; init; }

    /// <summary>Fraction of each training class's pairs held out for validation (model selection by mAP).</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>Seed of the held-out choice; fixed, so the validation part is the same for every training seed.</summary>
    public ulong ValidationSeed { get; init; }

    /// <summary>Rejects impossible values with one message.</summary>
    public void Validate()
    {
        if (!(ValidationFraction > 0 && ValidationFraction < 1)) throw new ArgumentException($"--val-fraction must be in (0, 1), got {ValidationFraction}.");
        if (TfidfTerms < 1) throw new ArgumentException($"--tfidf-terms must be positive, got {TfidfTerms}.");
        if (Seen is { Length: 0 }) throw new ArgumentException("The seen classes of an extendable run must not be empty.");
    }
}
