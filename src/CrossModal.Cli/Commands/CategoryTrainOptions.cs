using System.CommandLine;
using CrossModal.Models;
using CrossModal.Training;

namespace CrossModal.Cli.Commands;

/// <summary>
/// The options of `crossmodal train` that only category-level models take (which features of a labelled-pairs
/// folder, the class embeddings, the extendable protocol's classes, the validation part).
/// </summary>
internal sealed class CategoryTrainOptions
{
    public Option<string?> ImageFeatures { get; } = new("--image-features") { Description = "[category] image feature file: the part after {split}_img_ (needed when the folder has several)" };
    public Option<string?> TextFeatures { get; } = new("--text-features") { Description = "[category] text feature file (the part after {split}_txt_), or 'tfidf' to compute TF-IDF from {split}_texts.txt with a vocabulary of the run's training texts" };
    public Option<int> TfidfTerms { get; } = new("--tfidf-terms") { Description = "[category] TF-IDF vocabulary size", DefaultValueFactory = _ => 5000 };
    public Option<string?> StopWords { get; } = new("--stop-words") { Description = "[category] stop-word list for TF-IDF and classvec (default: the folder's stopwords_from_dataset.txt)" };
    public Option<string?> ClassEmbeddings { get; } = new("--class-embeddings") { Description = "[masln] class embeddings: a .npy with one row per class (categories.txt order), or 'classvec' (default): PPMI+SVD word vectors of the class names trained on the run's training texts (seen classes only)" };
    public Option<string?> UnseenClasses { get; } = new("--unseen") { Description = "[category] extendable protocol: comma-separated classes held out of training (names from categories.txt or indices)" };
    public Option<int> Splits { get; } = new("--splits") { Description = "[category] extendable protocol: train one model per random seen/unseen split (half the classes seen) into OUT/split-1..N", DefaultValueFactory = _ => 0 };
    public Option<ulong> SplitSeed { get; } = new("--split-seed") { Description = "[category] seed of the random splits (the baselines' --seed)", DefaultValueFactory = _ => 0UL };
    public Option<double> ValFraction { get; } = new("--val-fraction") { Description = "[category] fraction of each training class held out of the training split for validation (fixed seed; the test split is never read)", DefaultValueFactory = _ => 0.1 };

    public IEnumerable<Option> All => [ImageFeatures, TextFeatures, TfidfTerms, StopWords, ClassEmbeddings, UnseenClasses, Splits, SplitSeed, ValFraction];

    public CategoryDataOptions DataOptions(ParseResult p) => new()
    {
        ImageFeatures = p.GetValue(ImageFeatures),
        TextFeatures = p.GetValue(TextFeatures),
        TfidfTerms = p.GetValue(TfidfTerms),
        StopWords = p.GetValue(StopWords),
        ClassEmbeddings = p.GetValue(ClassEmbeddings),
        ValidationFraction = p.GetValue(ValFraction),
    };

    public IReadOnlyList<string>? Unseen(ParseResult p) =>
        p.GetValue(UnseenClasses)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>One error when an instance-level model is given a category-only option.</summary>
    public void RejectFor(ParseResult p, ModelFamily family)
    {
        foreach (var o in All)
            if (FamilyOptions.Given(p, o))
                throw new CliException($"{o.Name} applies to category-level models ({string.Join(", ", ModelFamilies.All.Where(f => f.Task == RetrievalTask.Category).Select(f => f.Name))}), not to '{family.Name}'.");
    }
}
