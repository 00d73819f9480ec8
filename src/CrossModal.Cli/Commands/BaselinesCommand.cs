using System.CommandLine;
using CrossModal.Evaluation.Category;
using CrossModal.Tensors.Threading;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal baselines`: the category-level baseline table (chance, CCA, semantic matching) of a labelled-pairs
/// folder on its shipped text features and on TF-IDF of its raw texts, standard and extendable protocols
/// (<see cref="CategoryBaselineReport"/>; the splits are those of `train --splits N --split-seed S`).
/// </summary>
internal static class BaselinesCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "labelled-pairs folder with train and test splits", Required = true };
        var splits = new Option<int>("--splits") { Description = "random seen/unseen splits of the extendable protocol", DefaultValueFactory = _ => 5 };
        var seed = new Option<ulong>("--seed") { Description = "seed of the splits (train's --split-seed)", DefaultValueFactory = _ => 0UL };
        var terms = new Option<int>("--tfidf-terms") { Description = "TF-IDF vocabulary size (0: shipped text features only)", DefaultValueFactory = _ => 5000 };
        var stopWords = new Option<string?>("--stop-words") { Description = "stop-word list (default: the folder's stopwords_from_dataset.txt)" };
        var json = new Option<bool>("--json") { Description = "print one JSON line per row instead of the table" };
        var prSvg = new Option<string?>("--pr-svg") { Description = "write the standard protocol's precision-recall curves as SVG to this file" };
        var threads = new Option<int>("--threads") { Description = "worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("baselines", "Category-level baselines (chance, CCA, semantic matching) under the standard and extendable protocols.");
        foreach (var o in new Option[] { data, splits, seed, terms, stopWords, json, prSvg, threads }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            Parallelism.Threads = p.GetValue(threads);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var progress = new SyncProgress<string>(line => Console.Error.WriteLine(line));
            var rows = CategoryBaselineReport.Run(p.GetValue(data)!, new CategoryBaselineReport.Options(p.GetValue(splits), p.GetValue(seed), p.GetValue(terms), p.GetValue(stopWords)), progress);
            if (p.GetValue(json)) foreach (var r in rows) Console.WriteLine(r.ToJson());
            else Console.Write(CategoryBaselineReport.ToMarkdown(rows));
            if (p.GetValue(prSvg) is { } svg)
            {
                var curves = rows.Where(r => r.Protocol == "standard" && r.Method != "chance")
                    .SelectMany(r => new[] { ($"{r.Method} {r.Features} I->T", r.Runs[0].I2T.Curve), ($"{r.Method} {r.Features} T->I", r.Runs[0].T2I.Curve) }).ToList();
                PrecisionRecallPlot.Write(svg, curves, "Baselines, standard protocol");
            }
            Console.Error.WriteLine($"({rows.Count} rows in {clock.Elapsed.TotalSeconds:F1} s)");
            return 0;
        });
        return cmd;
    }
}
