using System.Text.Encodings.Web;
using System.Text.Json;

namespace CrossModal.Benchmarks;

/// <summary>
/// One measured case, printed as one JSON line: {"suite", "case", "threads", "unit", "value", "reference",
/// "reference_value", "ratio", ...extra, "cpu", "vector_bits", "openblas_core", "load1"}. <see cref="Ratio"/> is
/// always "times better than the reference" (value / reference for throughputs, reference / value for times), so
/// &gt; 1 means we win. The machine fields (<see cref="Machine.JsonFields"/>) and the 1-minute load average at
/// the time the line is printed are added to every line, so a suite never has to.
/// </summary>
public sealed record BenchResult(string Suite, string Case, int Threads, string Unit, double Value,
    string? Reference = null, double? ReferenceValue = null, bool HigherIsBetter = true,
    IReadOnlyDictionary<string, object>? Extra = null)
{
    // Plain quotes and backticks in messages (the default encoder escapes them for HTML; this goes to a terminal).
    private static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Times better than the reference, or null without one.</summary>
    public double? Ratio => ReferenceValue is { } r && r > 0 && Value > 0 ? (HigherIsBetter ? Value / r : r / Value) : null;

    /// <summary>The JSON line.</summary>
    public string ToJson()
    {
        var d = new Dictionary<string, object?>
        {
            ["suite"] = Suite,
            ["case"] = Case,
            ["threads"] = Threads,
            ["unit"] = Unit,
            ["value"] = Math.Round(Value, 4),
            ["reference"] = Reference,
            ["reference_value"] = ReferenceValue is { } rv ? Math.Round(rv, 4) : null,
            ["ratio"] = Ratio is { } ratio ? Math.Round(ratio, 3) : null,
        };
        if (Extra is not null) foreach (var (k, v) in Extra) d[k] = v;
        foreach (var (k, v) in Machine.JsonFields) d.TryAdd(k, v);
        if (BenchContext.LoadAverage() is { } load) d.TryAdd("load1", load);
        return JsonSerializer.Serialize(d, Options);
    }

    /// <summary>The JSON line of a suite that did not run: {"suite", "skipped": why, machine fields}.</summary>
    public static string SkippedJson(string suite, string reason)
    {
        var d = new Dictionary<string, object?> { ["suite"] = suite, ["skipped"] = reason };
        foreach (var (k, v) in Machine.JsonFields) d[k] = v;
        return JsonSerializer.Serialize(d, Options);
    }
}
