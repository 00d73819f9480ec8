namespace CrossModal.Models.Objectives;

/// <summary>
/// The outcome of one training step: the total loss (NaN or infinite when training diverged; the step then did
/// not update anything) and its named terms (e.g. "hinge", "caption"), for logs and metrics.
/// </summary>
public sealed record StepResult(double Loss, IReadOnlyDictionary<string, double> Terms)
{
    /// <summary>A result with one term named <paramref name="name"/>.</summary>
    public static StepResult Single(string name, double loss) => new(loss, new Dictionary<string, double> { [name] = loss });
}
