using System.Globalization;
using System.Text.Json.Nodes;

namespace CrossModal.Fuzz;

/// <summary>The counts of one target's run: outcomes, the slowest input and the largest allocation.</summary>
public sealed class TargetReport(FuzzTarget target)
{
    /// <summary>The target.</summary>
    public FuzzTarget Target { get; } = target;

    /// <summary>Inputs run (seeds excluded).</summary>
    public int Inputs { get; set; }

    /// <summary>Inputs the parser accepted.</summary>
    public int Loaded { get; set; }

    /// <summary>Inputs refused with InvalidDataException naming the input.</summary>
    public int Refused { get; set; }

    /// <summary>Failures: (index, how the input was made, outcome).</summary>
    public List<(int Index, string How, FuzzOutcome Outcome)> Failures { get; } = new();

    /// <summary>Some refusal messages, to show what users see.</summary>
    public List<string> Samples { get; } = new();

    /// <summary>The slowest input's time.</summary>
    public double SlowestMilliseconds { get; set; }

    /// <summary>The slowest input's index (replay it with --replay).</summary>
    public int SlowestIndex { get; set; } = -1;

    /// <summary>The largest allocation of one input.</summary>
    public long MaxAllocatedBytes { get; set; }

    /// <summary>The index of the input that allocated most.</summary>
    public int MaxAllocatedIndex { get; set; } = -1;

    /// <summary>The largest share of its budget an input allocated (1 = the whole budget).</summary>
    public double MaxBudgetShare { get; set; }

    /// <summary>Wall-clock seconds of the whole run.</summary>
    public double Seconds { get; set; }

    /// <summary>Counts one outcome.</summary>
    public void Add(FuzzInput input, FuzzOutcome outcome)
    {
        Inputs++;
        if (outcome.Kind == "loaded") Loaded++;
        else if (outcome.Kind == "refused")
        {
            Refused++;
            if (Samples.Count < 12 && Refused % 211 == 1) Samples.Add(outcome.Message);
        }
        else Failures.Add((input.Index, $"{input.Seed}: {input.How}", outcome));
        if (outcome.Milliseconds > SlowestMilliseconds) (SlowestMilliseconds, SlowestIndex) = (outcome.Milliseconds, input.Index);
        if (outcome.AllocatedBytes > MaxAllocatedBytes) (MaxAllocatedBytes, MaxAllocatedIndex) = (outcome.AllocatedBytes, input.Index);
        MaxBudgetShare = Math.Max(MaxBudgetShare, outcome.AllocatedBytes / (double)Target.Budget(input.TotalBytes));
    }

    /// <summary>One line for the console.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Target.Name,-15} {Inputs,6} inputs: {Loaded,5} loaded, {Refused,5} refused, {Failures.Count} failures; slowest {SlowestMilliseconds:F1} ms (#{SlowestIndex}), " +
        $"largest allocation {MaxAllocatedBytes / 1048576.0:F2} MiB (#{MaxAllocatedIndex}), at most {100 * MaxBudgetShare:F0}% of an input's budget; {Seconds:F1} s");

    /// <summary>The report as JSON (for --json).</summary>
    public JsonObject ToJson() => new()
    {
        ["parser"] = Target.Name,
        ["api"] = Target.Api,
        ["seeds"] = Target.Seeds.Count,
        ["inputs"] = Inputs,
        ["loaded"] = Loaded,
        ["refused"] = Refused,
        ["failures"] = Failures.Count,
        ["slowest_ms"] = Math.Round(SlowestMilliseconds, 2),
        ["slowest_input"] = SlowestIndex,
        ["max_allocated_bytes"] = MaxAllocatedBytes,
        ["max_allocated_input"] = MaxAllocatedIndex,
        ["max_budget_share"] = Math.Round(MaxBudgetShare, 3),
        ["budget"] = $"{Target.BytesPerInputByte}x size + {Target.FixedBytes >> 20} MiB",
        ["seconds"] = Math.Round(Seconds, 2),
    };
}
