using System.Text.Json;
using CrossModal.Evaluation;

namespace CrossModal.Training;

/// <summary>One epoch's outcome: one line of the log and of metrics.jsonl.</summary>
public sealed record EpochRecord(int Epoch, double Loss, float LearningRate, double Seconds, RetrievalMetrics Validation, bool Best)
{
    /// <summary>The metrics.jsonl line.</summary>
    public string ToJsonLine()
    {
        var doc = JsonDocument.Parse(Validation.ToJson(indented: false)).RootElement;
        var o = new Dictionary<string, object>
        {
            ["epoch"] = Epoch,
            ["loss"] = Loss,
            ["lr"] = LearningRate,
            ["seconds"] = Math.Round(Seconds, 2),
            ["i2t"] = doc.GetProperty("i2t"),
            ["t2i"] = doc.GetProperty("t2i"),
            ["rsum"] = Validation.Rsum,
            ["best"] = Best,
        };
        return JsonSerializer.Serialize(o);
    }

    /// <summary>The human log line.</summary>
    public override string ToString() =>
        $"epoch {Epoch,3}  loss {Loss,9:F3}  lr {LearningRate:G3}  R@1/5/10 i2t {Validation.I2T.R1:F1}/{Validation.I2T.R5:F1}/{Validation.I2T.R10:F1}" +
        $"  t2i {Validation.T2I.R1:F1}/{Validation.T2I.R5:F1}/{Validation.T2I.R10:F1}  rsum {Validation.Rsum:F1}{(Best ? "*" : " ")}  {Seconds:F1}s";
}
