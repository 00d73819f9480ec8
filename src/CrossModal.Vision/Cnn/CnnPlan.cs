namespace CrossModal.Vision.Cnn;

/// <summary>
/// What one Run executes for a given set of requested values: the needed nodes in graph order (a Conv/Gemm and
/// its Relu merged into one step), how many steps read each intermediate value (so it is released after its last
/// reader), and the graph inputs that must be fed.
/// </summary>
internal sealed class CnnPlan(IReadOnlyList<CnnPlan.Step> steps, IReadOnlyDictionary<string, int> useCounts, IReadOnlyList<string> requiredInputs,
    IReadOnlySet<string> requested)
{
    /// <summary>One operator call: input and output value names ("" = omitted), and whether it applies the fused ReLU.</summary>
    internal sealed record Step(CnnOperator Operator, string[] Inputs, string[] Outputs, bool FuseRelu)
    {
        /// <summary>When set, the Conv writes into channels [Offset, Offset + its M) of Outputs[0], a Concat of Total channels.</summary>
        public (int Offset, int Total)? ConcatSlot { get; init; }
    }

    public IReadOnlyList<Step> Steps { get; } = steps;

    public IReadOnlyDictionary<string, int> UseCounts { get; } = useCounts;

    public IReadOnlyList<string> RequiredInputs { get; } = requiredInputs;

    /// <summary>The values the caller asked for.</summary>
    public IReadOnlySet<string> Requested { get; } = requested;

    /// <summary>Whether the plan is batch-separable, by the ranks of the fed inputs (filled on first use).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, bool> Separable { get; } = new(StringComparer.Ordinal);
}
