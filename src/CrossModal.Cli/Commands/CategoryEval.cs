using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CrossModal.Evaluation.Category;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Tensors.IO;
using CrossModal.Training;

namespace CrossModal.Cli.Commands;

/// <summary>
/// The category-level part of `crossmodal eval`: each model under the protocol it was trained for
/// (<see cref="CategoryEvaluation"/>), then the mean and sample standard deviation over the models of each part
/// (standard, unseen, generalised), as the baseline report computes them.
/// </summary>
internal static class CategoryEval
{
    /// <summary>Whether <paramref name="path"/> (a model file or a run folder) holds a category-level model of ours.</summary>
    public static bool IsCategoryModel(string path)
    {
        if (!Directory.Exists(path) && !path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            return ModelFile.Read(CategoryRunPlan.ModelFiles(path)[0]).Config.Family.Task == RetrievalTask.Category;
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
        {
            return false;
        }
    }

    public static int Run(IReadOnlyList<string> paths, string? data, string split, string ksText, string? jsonPath, string? svgPath)
    {
        var ks = ParseKs(ksText);
        var files = paths.SelectMany(CategoryRunPlan.ModelFiles).ToList();
        var results = new List<CategoryEvaluation.Result>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var file in files)
        {
            var r = CategoryEvaluation.Evaluate(file, data, split, ks);
            results.Add(r);
            Console.WriteLine($"{file} ({r.Model}, text {r.TextFeatures}; {(r.UnseenClasses.Count == 0 ? "all classes" : $"unseen: {string.Join(", ", r.UnseenClasses)}")})");
            foreach (var (part, m) in Parts(r)) Console.WriteLine($"  {part,-12} {Line(m)}");
        }
        var summary = new JsonObject();
        var curves = new List<(string, PrecisionRecallCurve)>();
        foreach (var part in new[] { "standard", "unseen", "generalised" })
        {
            var runs = results.SelectMany(r => Parts(r).Where(x => x.Part == part).Select(x => x.Metrics)).ToList();
            if (runs.Count == 0) continue;
            var row = new CategoryBaselineReport.Row(results[0].Model, results[0].TextFeatures, part, runs);
            if (runs.Count > 1 || results.Count > 1)
                Console.WriteLine($"{part}, {runs.Count} model{(runs.Count > 1 ? "s" : "")}: mAP i2t {Stat(row, m => m.I2T.Map)}  t2i {Stat(row, m => m.T2I.Map)}  mean {Stat(row, m => m.MeanMap)}");
            summary[part] = JsonNode.Parse(row.ToJson());
            curves.Add(($"{part} I->T", MeanCurve(runs.Select(m => m.I2T.Curve).ToList())));
            curves.Add(($"{part} T->I", MeanCurve(runs.Select(m => m.T2I.Curve).ToList())));
        }
        Console.WriteLine($"({results.Count} model{(results.Count > 1 ? "s" : "")}, split '{split}', {clock.Elapsed.TotalSeconds:F1} s)");
        if (jsonPath is not null)
        {
            var o = new JsonObject { ["runs"] = new JsonArray(results.Select(r => (JsonNode?)r.ToJsonObject()).ToArray()), ["summary"] = summary };
            AtomicFile.WriteAllText(jsonPath, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
        if (svgPath is not null)
            PrecisionRecallPlot.Write(svgPath, curves, $"{results[0].Model} ({results[0].TextFeatures}), {results.Count} model{(results.Count > 1 ? "s" : "")}");
        return 0;
    }

    private static IEnumerable<(string Part, CategoryMetrics Metrics)> Parts(CategoryEvaluation.Result r)
    {
        if (r.Standard is { } s) yield return ("standard", s);
        if (r.Unseen is { } u) yield return ("unseen", u);
        if (r.Generalised is { } g) yield return ("generalised", g);
    }

    private static string Line(CategoryMetrics m)
    {
        string P(CategoryDirectionMetrics d) => string.Join("/", d.Precisions.Select(p => p.ToString("F3", CultureInfo.InvariantCulture)));
        return string.Create(CultureInfo.InvariantCulture, $"mAP i2t {m.I2T.Map:F4} t2i {m.T2I.Map:F4} mean {m.MeanMap:F4} | P@{string.Join("/", m.I2T.Ks)} i2t {P(m.I2T)} t2i {P(m.T2I)}");
    }

    private static string Stat(CategoryBaselineReport.Row row, Func<CategoryMetrics, double> f)
    {
        var (mean, std) = row.Stat(f);
        return row.Runs.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $"{mean:F4} ± {std:F4}") : mean.ToString("F4", CultureInfo.InvariantCulture);
    }

    private static PrecisionRecallCurve MeanCurve(IReadOnlyList<PrecisionRecallCurve> curves)
    {
        var levels = curves[0].RecallLevels;
        var p = new double[levels.Count];
        foreach (var c in curves)
            for (int i = 0; i < p.Length; i++) p[i] += c.Precision[i] / curves.Count;
        return new PrecisionRecallCurve(levels, p);
    }

    private static int[] ParseKs(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ks = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ks[i]) || ks[i] < 1)
                throw new CliException($"--k: '{parts[i]}' is not a positive integer (expected e.g. 1,5,10).");
        if (ks.Length == 0) throw new CliException("--k: give at least one K.");
        return ks;
    }
}
