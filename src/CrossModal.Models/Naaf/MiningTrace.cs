namespace CrossModal.Models.Naaf;

/// <summary>
/// What the threshold learning did in one training batch, caption by caption (for tests and diagnostics): the
/// threshold each caption was scored with, whether its own image ranked first, the image sampled as its mismatch
/// (-1 when not ranked correctly), and how many threshold updates ran.
/// </summary>
public sealed class MiningTrace
{
    /// <summary>The threshold (opt.thres when the caption's turn came) per caption.</summary>
    public List<float> ThresholdUsed { get; } = new();

    /// <summary>Whether the caption's best image was its own.</summary>
    public List<bool> Correct { get; } = new();

    /// <summary>The caption's lowest-scoring image when correct, else -1.</summary>
    public List<int> NegativeIndex { get; } = new();

    /// <summary>Threshold updates (batches past the 200-word trigger update once per further correct caption).</summary>
    public int Updates { get; set; }
}
