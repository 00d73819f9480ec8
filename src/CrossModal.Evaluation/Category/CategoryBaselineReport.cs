using System.Globalization;
using System.Text;
using System.Text.Json;
using CrossModal.Data;
using CrossModal.Data.Category;
using CrossModal.Models.CategoryBaselines;
using CrossModal.Text.Features;

namespace CrossModal.Evaluation.Category;

/// <summary>
/// The baseline table of category-level retrieval: CCA and semantic matching on the shipped text features and on
/// TF-IDF features computed from the raw texts (vocabulary from the training texts the protocol allows: all of
/// them for the standard protocol, the seen classes' for the extendable one), under the standard and the extendable
/// protocols (N random seen/unseen splits, unseen and generalised). Callable from a CLI verb; the benchmarks
/// program runs it as the "category-baselines" suite (tools/category/baselines.sh).
/// </summary>
public static class CategoryBaselineReport
{
    /// <summary>One row of the table: a method on some features under one protocol, mAP per split/seed.</summary>
    public sealed record Row(string Method, string Features, string Protocol, IReadOnlyList<CategoryMetrics> Runs)
    {
        /// <summary>Mean and sample standard deviation over the runs of a selector.</summary>
        public (double Mean, double Std) Stat(Func<CategoryMetrics, double> f)
        {
            var v = Runs.Select(f).ToArray();
            double mean = v.Average();
            double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
            return (mean, std);
        }

        /// <summary>One JSON line: method, features, protocol, runs, i2t/t2i/mean mAP (mean and std) and the per-run values.</summary>
        public string ToJson()
        {
            var o = new Dictionary<string, object>
            {
                ["method"] = Method, ["features"] = Features, ["protocol"] = Protocol, ["runs"] = Runs.Count,
                ["map_i2t"] = Stat(m => m.I2T.Map).Mean, ["map_t2i"] = Stat(m => m.T2I.Map).Mean, ["map_mean"] = Stat(m => m.MeanMap).Mean,
                ["std_i2t"] = Stat(m => m.I2T.Map).Std, ["std_t2i"] = Stat(m => m.T2I.Map).Std, ["std_mean"] = Stat(m => m.MeanMap).Std,
                ["per_run_i2t"] = Runs.Select(m => m.I2T.Map).ToArray(), ["per_run_t2i"] = Runs.Select(m => m.T2I.Map).ToArray(),
            };
            return JsonSerializer.Serialize(o);
        }
    }

    /// <summary>Settings of the report.</summary>
    /// <param name="Splits">Random seen/unseen splits of the extendable protocol.</param>
    /// <param name="Seed">Seed of the splits.</param>
    /// <param name="TfidfTerms">Vocabulary size of the TF-IDF features (0: skip them).</param>
    /// <param name="StopWordsFile">Stop-word list for TF-IDF (default: stopwords_from_dataset.txt in the data folder).</param>
    public sealed record Options(int Splits = 5, ulong Seed = 0, int TfidfTerms = 5000, string? StopWordsFile = null);

    /// <summary>Runs every row on a labelled-pairs folder with train and test splits (e.g. ../shared/data/wikipedia).</summary>
    public static IReadOnlyList<Row> Run(string dataDirectory, Options? options = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new Options();
        var train = CategoryDataset.Open(dataDirectory, "train");
        var test = CategoryDataset.Open(dataDirectory, "test");
        string shipped = Path.GetFileNameWithoutExtension(train.TextFeaturesPath).Replace("train_txt_", "", StringComparison.Ordinal);
        if (options.Splits < 1) throw new ArgumentException("The extendable protocol needs at least one split.");
        var features = new List<(string Name, Func<CategoryDataset, CategoryDataset, (CategoryDataset, CategoryDataset)> Prepare)>
        {
            (shipped, (tr, te) => (tr, te)),
        };
        if (options.TfidfTerms > 0)
        {
            if (train.Texts is null || test.Texts is null)
                throw new FileNotFoundException($"{dataDirectory}: TF-IDF features need train_texts.txt and test_texts.txt (one raw text per pair).");
            string stopPath = options.StopWordsFile ?? Path.Combine(dataDirectory, "stopwords_from_dataset.txt");
            var stop = File.Exists(stopPath) ? TermTokenizer.LoadStopWords(stopPath) : [];
            features.Add(($"tfidf{options.TfidfTerms}", (tr, te) =>
            {
                // The vocabulary and idf come from the texts of the training pairs handed over (seen classes only
                // under the extendable protocol).
                var v = TfidfVectorizer.Fit(tr.Texts!, stop, options.TfidfTerms);
                return (tr.WithTextFeatures(v.Transform(tr.Texts!), $"tfidf of {tr.Split}"), te.WithTextFeatures(v.Transform(te.Texts!), $"tfidf of {te.Split}"));
            }));
        }
        var methods = new (string Name, Func<CategoryDataset, ICommonSpaceModel> Fit)[]
        {
            ("chance", tr => new ChanceModel(tr.ImageFeatures.Dim(1), tr.TextFeatures.Dim(1))),
            ("CCA", tr => Cca.Fit(tr.ImageFeatures.Data, tr.ImageFeatures.Dim(1), tr.TextFeatures.Data, tr.TextFeatures.Dim(1), tr.Count,
                new CcaOptions(Dimension: Math.Min(10, Math.Min(tr.ImageFeatures.Dim(1), tr.TextFeatures.Dim(1)))))),
            ("SM", tr => SemanticMatching.Fit(tr.ImageFeatures.Data, tr.ImageFeatures.Dim(1), tr.TextFeatures.Data, tr.TextFeatures.Dim(1), tr.Count,
                tr.LabelArray(), cancellationToken: cancellationToken)),
        };
        var splits = ClassSplit.Random(train.ClassCount, options.Splits, options.Seed);
        var rows = new List<Row>();
        foreach (var (featureName, prepare) in features)
            foreach (var (methodName, fitMethod) in methods)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (methodName == "chance" && featureName != shipped) continue; // chance ignores the features: one set of rows
                CategoryProtocol.Fit fit = (tr, te, _) =>
                {
                    var (ptr, pte) = prepare(tr, te);
                    return (fitMethod(ptr), pte);
                };
                var standard = CategoryProtocol.Standard(train, test, fit);
                rows.Add(new Row(methodName, featureName, "standard", [standard]));
                progress?.Report($"{methodName} {featureName} standard: {standard}");
                var unseen = new List<CategoryMetrics>();
                var generalised = new List<CategoryMetrics>();
                foreach (var split in splits)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var (u, g) = CategoryProtocol.Extendable(train, test, split, fit);
                    unseen.Add(u);
                    generalised.Add(g);
                    progress?.Report($"{methodName} {featureName} {split.Description} (seen {string.Join(",", split.SeenNames(train.Categories))}): unseen {u}; all {g}");
                }
                rows.Add(new Row(methodName, featureName, $"extendable unseen ({options.Splits} splits)", unseen));
                rows.Add(new Row(methodName, featureName, $"generalised ({options.Splits} splits)", generalised));
            }
        return rows;
    }

    /// <summary>A markdown table: mAP i2t, t2i and their mean, "mean ± std" for multi-run rows.</summary>
    public static string ToMarkdown(IReadOnlyList<Row> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| protocol | method | text features | mAP I->T | mAP T->I | mean |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            string F(Func<CategoryMetrics, double> f)
            {
                var (m, s) = r.Stat(f);
                return r.Runs.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $"{m:F3} ± {s:F3}") : m.ToString("F3", CultureInfo.InvariantCulture);
            }
            sb.AppendLine($"| {r.Protocol} | {r.Method} | {r.Features} | {F(m => m.I2T.Map)} | {F(m => m.T2I.Map)} | {F(m => m.MeanMap)} |");
        }
        return sb.ToString();
    }
}
