using System.Text.Json;

namespace CrossModal.Benchmarks;

/// <summary>
/// One measured case, printed as one JSON line: {"suite", "case", "threads", "unit", "value", "reference",
/// "reference_value", "ratio", ...extra}. <see cref="Ratio"/> is always "times better than the reference"
/// (value / reference for throughputs, reference / value for times), so &gt; 1 means we win.
/// </summary>
public sealed record BenchResult(string Suite, string Case, int Threads, string Unit, double Value,
    string? Reference = null, double? ReferenceValue = null, bool HigherIsBetter = true,
    IReadOnlyDictionary<string, object>? Extra = null)
{
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
        return JsonSerializer.Serialize(d);
    }
}
