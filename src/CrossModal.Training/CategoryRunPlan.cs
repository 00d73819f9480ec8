using CrossModal.Data;
using CrossModal.Data.Category;

namespace CrossModal.Training;

/// <summary>
/// The training runs of a category-level protocol: one run on all classes (standard), one run on the classes not
/// named unseen, or one run per random seen/unseen split (the extendable protocol's default: 5 splits of half the
/// classes, <see cref="ClassSplit.Random"/>, the same splits the baseline report uses for the same seed), each in
/// its own output folder "split-k" below the given one.
/// </summary>
public static class CategoryRunPlan
{
    /// <summary>Name of run k's folder (1-based) when a protocol trains one model per split.</summary>
    public static string SplitFolder(int k) => $"split-{k}";

    /// <summary>
    /// The runs for <paramref name="options"/> (whose <see cref="TrainOptions.Category"/> holds the feature choices):
    /// unchanged when neither <paramref name="unseen"/> nor <paramref name="splits"/> is given; with unseen classes,
    /// one run on the others; with <paramref name="splits"/> &gt; 0, one run per random split fixed by
    /// <paramref name="splitSeed"/>. Class names are checked against the data folder's categories.txt (or labels).
    /// </summary>
    public static IReadOnlyList<(TrainOptions Options, ClassSplit? Split)> Plan(TrainOptions options, IReadOnlyList<string>? unseen, int splits, ulong splitSeed)
    {
        var category = options.Category ?? new CategoryDataOptions();
        if (unseen is { Count: > 0 } && splits > 0) throw new ArgumentException("Give either --unseen (one split) or --splits N (random splits), not both.");
        if (splits < 0) throw new ArgumentException($"--splits must not be negative, got {splits}.");
        if (unseen is not { Count: > 0 } && splits == 0) return [(options with { Category = category }, null)];
        bool tfidf = category.TextFeatures == CategoryDataOptions.Tfidf;
        var data = CategoryDataset.Open(options.DataPath, options.TrainSplit, category.ImageFeatures, tfidf ? null : category.TextFeatures, rawTextsOnly: tfidf);
        if (unseen is { Count: > 0 })
        {
            var split = ClassSplit.FromUnseenNames(unseen, data.ClassCount, data.Categories, "--unseen");
            return [(WithSplit(options, category, split, options.OutputPath), split)];
        }
        return ClassSplit.Random(data.ClassCount, splits, splitSeed)
            .Select((s, k) => (WithSplit(options, category, s, Path.Combine(options.OutputPath, SplitFolder(k + 1))), (ClassSplit?)s)).ToArray();
    }

    private static TrainOptions WithSplit(TrainOptions options, CategoryDataOptions category, ClassSplit split, string output) =>
        options with { OutputPath = output, Category = category with { Seen = split.Seen.ToArray(), SplitDescription = split.Description } };

    /// <summary>
    /// The model files a path names for evaluation: a file itself; a folder's model_best.safetensors; or, when the
    /// folder has none, the model_best.safetensors of each of its sub-folders (the runs of a split protocol), split-2
    /// before split-10. One clear error when there is none.
    /// </summary>
    public static IReadOnlyList<string> ModelFiles(string path)
    {
        if (File.Exists(path)) return [path];
        if (!Directory.Exists(path)) throw new FileNotFoundException($"{path}: no such model file or run folder.", path);
        string best = Path.Combine(path, Trainer.BestName);
        if (File.Exists(best)) return [best];
        var runs = Directory.GetDirectories(path).Select(d => Path.Combine(d, Trainer.BestName)).Where(File.Exists).OrderBy(p => p.Length).ThenBy(p => p, StringComparer.Ordinal).ToArray();
        if (runs.Length == 0) throw new FileNotFoundException($"{path}: the folder holds no {Trainer.BestName}, neither itself nor in a sub-folder (run folders of 'crossmodal train').", best);
        return runs;
    }
}
