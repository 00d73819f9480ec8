namespace CrossModal.Models;

/// <summary>What a <see cref="ScoreExplanation"/> holds.</summary>
public enum ExplanationKind
{
    /// <summary>Per word, weights over the image's regions (cross-attention models).</summary>
    WordRegionAttention,

    /// <summary>Per region, its additive share of the score (dot-product models over averaged regions).</summary>
    RegionContributions,
}
