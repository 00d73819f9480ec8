namespace CrossModal.Models.CategoryBaselines;

/// <summary>
/// Semantic matching (Rasiwasia et al., ACM MM 2010): each modality gets its own multinomial logistic regression
/// over the training classes, and an item's code is its vector of class posteriors; retrieval compares posterior
/// vectors by cosine. With z-scored features and weight decay 1e-3 (mean cross-entropy) this reproduces the
/// Wikipedia reference 0.278 / 0.213 (see README). Under the extendable protocol the classifiers only know the
/// seen classes, so unseen items are matched by their seen-class posterior profiles.
/// </summary>
public sealed class SemanticMatching : ICommonSpaceModel
{
    private SemanticMatching(LogisticRegression image, LogisticRegression text)
    {
        ImageClassifier = image;
        TextClassifier = text;
    }

    /// <inheritdoc/>
    public string Name => "sm";

    /// <inheritdoc/>
    public int Dimension => ImageClassifier.Classes.Count;

    /// <inheritdoc/>
    public int ImageFeatureDimension => ImageClassifier.Dimension;

    /// <inheritdoc/>
    public int TextFeatureDimension => TextClassifier.Dimension;

    /// <summary>The image-side classifier.</summary>
    public LogisticRegression ImageClassifier { get; }

    /// <summary>The text-side classifier.</summary>
    public LogisticRegression TextClassifier { get; }

    /// <summary>Fits both classifiers on paired training rows and their labels.</summary>
    public static SemanticMatching Fit(ReadOnlySpan<float> images, int imageDim, ReadOnlySpan<float> texts, int textDim, int rows,
        ReadOnlySpan<int> labels, double weightDecay = 1e-3, CancellationToken cancellationToken = default)
    {
        var image = LogisticRegression.Fit(images, rows, imageDim, labels, weightDecay, cancellationToken: cancellationToken);
        var text = LogisticRegression.Fit(texts, rows, textDim, labels, weightDecay, cancellationToken: cancellationToken);
        return new SemanticMatching(image, text);
    }

    /// <inheritdoc/>
    public float[] ProjectImages(ReadOnlySpan<float> features, int rows) => ImageClassifier.Posteriors(features, rows);

    /// <inheritdoc/>
    public float[] ProjectTexts(ReadOnlySpan<float> features, int rows) => TextClassifier.Posteriors(features, rows);
}
