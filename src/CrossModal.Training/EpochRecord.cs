using System.Text.Json.Nodes;
using CrossModal.Evaluation;
using CrossModal.Models;
using CrossModal.Models.Objectives;

namespace CrossModal.Training;

/// <summary>
/// One validation of a run, with the training loss up to it: at the end of an epoch (<see cref="Iteration"/> null),
/// or mid-epoch every --val-step iterations. One line of the log and of metrics.jsonl.
/// </summary>
/// <param name="Epoch">1-based epoch (the one completed, or in progress for a mid-epoch validation).</param>
/// <param name="Iteration">The iteration of a mid-epoch validation; null at an epoch's end.</param>
/// <param name="Loss">Mean training loss per batch of the epoch (so far).</param>
/// <param name="Terms">Mean of each loss term per batch (e.g. hinge, caption).</param>
/// <param name="LearningRate">The (first) optimizer's learning rate.</param>
/// <param name="Seconds">Time spent on the epoch (so far).</param>
/// <param name="Validation">The validation result.</param>
/// <param name="Best">Whether this validation gave the best model so far.</param>
public sealed record EpochRecord(int Epoch, long? Iteration, double Loss, IReadOnlyDictionary<string, double> Terms, float LearningRate, double Seconds,
    ValidationResult Validation, bool Best)
{
    /// <summary>The metrics.jsonl line: epoch, [iteration,] loss, lr, seconds, the metrics' keys, score, best, terms.</summary>
    public string ToJsonLine() => ToJsonObject().ToJsonString();

    /// <summary>The line as a JSON object (<c>train --json</c> prints it).</summary>
    public JsonObject ToJsonObject()
    {
        var o = new JsonObject { ["epoch"] = Epoch };
        if (Iteration is { } it) o["iteration"] = it;
        o["loss"] = Loss;
        o["lr"] = LearningRate;
        o["seconds"] = Math.Round(Seconds, 2);
        foreach (var (k, v) in Validation.Metrics.ToJsonObject()) o[k] = v?.DeepClone();
        o["measure"] = ConfigJson.EnumName(Validation.Measure);
        o["score"] = Validation.Score;
        o["best"] = Best;
        var terms = new JsonObject();
        foreach (var (k, v) in Terms) terms[k] = v;
        o["terms"] = terms;
        return o;
    }

    /// <summary>Reads a line written by <see cref="ToJsonLine"/> (instance-level metrics).</summary>
    public static EpochRecord FromJson(JsonNode e, Func<JsonNode, IMetrics> readMetrics)
    {
        var measure = FlagValues.Parse<ValidationMeasure>((string)e["measure"]!, "measure");
        var terms = e["terms"] is JsonObject t ? t.ToDictionary(kv => kv.Key, kv => (double)kv.Value!) : new Dictionary<string, double>();
        return new EpochRecord((int)e["epoch"]!, (long?)e["iteration"], (double)e["loss"]!, terms, (float)e["lr"]!, (double)e["seconds"]!,
            new ValidationResult(measure, (double)e["score"]!, readMetrics(e)), (bool)e["best"]!);
    }

    /// <summary>The human log line.</summary>
    public override string ToString() =>
        $"epoch {Epoch,3}{(Iteration is { } it ? $" (iteration {it})" : "")}  loss {Loss,9:F3}  lr {LearningRate:G3}  {Validation.Metrics.Summary}" +
        $"{(Validation.Measure == ValidationMeasure.Rsum ? "" : $"  {ConfigJson.EnumName(Validation.Measure)} {Validation.Score:F1}")}{(Best ? "*" : " ")}  {Seconds:F1}s";
}
