namespace CrossModal.Vision.Cnn;

/// <summary>
/// What one Run executes for a given set of requested values: the needed nodes in graph order (a Conv/Gemm and
/// its Relu merged into one step), how many steps read each intermediate value (so it is released after its last
/// reader), and the graph inputs that must be fed.
/// </summary>
internal sealed class CnnPlan(IReadOnlyList<CnnPlan.Step> steps, IReadOnlyDictionary<string, int> useCounts, IReadOnlyList<string> requiredInputs)
{
    /// <summary>One operator call: input and output value names ("" = omitted), and whether it applies the fused ReLU.</summary>
    internal sealed record Step(CnnOperator Operator, string[] Inputs, string[] Outputs, bool FuseRelu);

    public IReadOnlyList<Step> Steps { get; } = steps;

    public IReadOnlyDictionary<string, int> UseCounts { get; } = useCounts;

    public IReadOnlyList<string> RequiredInputs { get; } = requiredInputs;
}
