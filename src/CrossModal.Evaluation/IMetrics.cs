using System.Text.Json.Nodes;

namespace CrossModal.Evaluation;

/// <summary>
/// Evaluation metrics of any task (R@K for instance-level retrieval, mAP for category-level), as training logs them:
/// a JSON object for metrics.jsonl, <c>--json</c> and HTTP, and one short line for the console.
/// </summary>
public interface IMetrics
{
    /// <summary>The metrics as a JSON object (its keys become keys of a metrics.jsonl line).</summary>
    JsonObject ToJsonObject();

    /// <summary>One short human-readable line.</summary>
    string Summary { get; }
}
