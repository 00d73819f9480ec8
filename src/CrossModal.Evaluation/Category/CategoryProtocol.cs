using CrossModal.Data;
using CrossModal.Data.Category;
using CrossModal.Models.CategoryBaselines;

namespace CrossModal.Evaluation.Category;

/// <summary>
/// The category-level protocols, for any model that maps both modalities into a common space:
/// standard (fit on the training pairs, rank the test pairs of the other modality), extendable (fit on the seen
/// classes' training pairs, evaluate on the unseen classes' test pairs) and generalised extendable (same fit,
/// evaluate on all test pairs). The fit function receives the training pairs it may use (and the split, so it can
/// fit class embeddings or a vocabulary on the seen classes only); it returns the fitted model and the test set as
/// the model sees it (e.g. with text features recomputed by a vocabulary learnt on the training texts).
/// </summary>
public static class CategoryProtocol
{
    /// <summary>Fits a model on <c>train</c> and returns it with the test pairs in the model's feature space.</summary>
    public delegate (ICommonSpaceModel Model, CategoryDataset Test) Fit(CategoryDataset train, CategoryDataset test, ClassSplit? split);

    /// <summary>Metrics of a fitted model's codes on a test set (labels from the test set).</summary>
    public static CategoryMetrics Evaluate(ICommonSpaceModel model, CategoryDataset test, IReadOnlyList<int>? ks = null)
    {
        var labels = test.LabelArray();
        var img = model.ProjectImages(test.ImageFeatures.Data, test.Count);
        var txt = model.ProjectTexts(test.TextFeatures.Data, test.Count);
        return CategoryMetrics.FromCodes(img, txt, model.Dimension, labels, labels, ks);
    }

    /// <summary>The standard protocol: fit on all training pairs, evaluate on all test pairs.</summary>
    public static CategoryMetrics Standard(CategoryDataset train, CategoryDataset test, Fit fit)
    {
        var (model, seenTest) = fit(train, test, null);
        return Evaluate(model, seenTest);
    }

    /// <summary>
    /// The extendable protocol on one split: fit on the seen classes' training pairs; Unseen = metrics on the unseen
    /// classes' test pairs, Generalised = metrics on all test pairs.
    /// </summary>
    public static (CategoryMetrics Unseen, CategoryMetrics Generalised) Extendable(CategoryDataset train, CategoryDataset test, ClassSplit split, Fit fit)
    {
        var (model, transformed) = fit(train.Select(split.Seen.ToArray()), test, split);
        var unseen = transformed.Select(split.Unseen.ToArray());
        return (Evaluate(model, unseen), Evaluate(model, transformed));
    }
}
