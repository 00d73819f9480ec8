using CrossModal.Evaluation.Category;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// The category-level baseline table (CategoryBaselineReport) on ../shared/data/wikipedia: CCA and semantic
/// matching on LDA-10 and TF-IDF text features, standard and extendable protocols. One JSON line per row with
/// value = mean mAP of both directions; the standard rows on the shipped features carry the numpy reference
/// (tools/reference/category_reference.py baselines) as reference_value. The markdown table goes to stderr.
/// Arguments: --splits N (default 5), --seed S (default 0), --data DIR (a labelled-pairs folder), --pr-svg FILE
/// (the standard protocol's precision-recall curves of every method and feature set, both directions).
/// </summary>
internal static class CategoryBaselinesSuite
{
    // numpy on the shipped SIFT-BoVW 128 + LDA-10 features, standard split (mean of I->T and T->I).
    private static readonly Dictionary<string, double> NumpyReference = new()
    {
        ["CCA"] = (0.2439 + 0.1954) / 2,
        ["SM"] = (0.2782 + 0.2126) / 2,
    };

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        string dir = Prerequisites.Data(ctx.Option("--data") ?? Path.Combine(BenchContext.DataRoot, "wikipedia"));
        var options = new CategoryBaselineReport.Options(
            Splits: int.Parse(ctx.Option("--splits") ?? "5", System.Globalization.CultureInfo.InvariantCulture),
            Seed: ulong.Parse(ctx.Option("--seed") ?? "0", System.Globalization.CultureInfo.InvariantCulture));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var rows = CategoryBaselineReport.Run(dir, options, new SyncLog());
        Console.Error.WriteLine($"category-baselines: {sw.Elapsed.TotalSeconds:F1} s, load average {BenchContext.LoadAverage()}");
        Console.Error.WriteLine(CategoryBaselineReport.ToMarkdown(rows));
        if (ctx.Option("--pr-svg") is { } svg)
        {
            var curves = rows.Where(r => r.Protocol == "standard")
                .SelectMany(r => new[] { ($"{r.Method} {r.Features} i2t", r.Runs[0].I2T.Curve), ($"{r.Method} {r.Features} t2i", r.Runs[0].T2I.Curve) })
                .ToList();
            PrecisionRecallPlot.Write(svg, curves, "Wikipedia, standard split");
            Console.Error.WriteLine($"category-baselines: wrote {svg}");
        }
        foreach (var r in rows)
        {
            bool hasReference = r.Protocol == "standard" && !r.Features.StartsWith("tfidf", StringComparison.Ordinal) && NumpyReference.ContainsKey(r.Method);
            var extra = new Dictionary<string, object>
            {
                ["method"] = r.Method, ["features"] = r.Features, ["protocol"] = r.Protocol, ["runs"] = r.Runs.Count,
                ["map_i2t"] = Math.Round(r.Stat(m => m.I2T.Map).Mean, 4), ["map_t2i"] = Math.Round(r.Stat(m => m.T2I.Map).Mean, 4),
                ["std_mean"] = Math.Round(r.Stat(m => m.MeanMap).Std, 4),
            };
            yield return new BenchResult("category-baselines", $"{r.Method} {r.Features} {r.Protocol}", 0, "mAP", r.Stat(m => m.MeanMap).Mean,
                hasReference ? "numpy (category_reference.py baselines)" : null, hasReference ? NumpyReference[r.Method] : null, Extra: extra);
        }
    }


    /// <summary>Progress lines to stderr as they happen (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class SyncLog : IProgress<string>
    {
        public void Report(string value) => Console.Error.WriteLine(value);
    }
}
