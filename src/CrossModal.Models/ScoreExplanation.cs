namespace CrossModal.Models;

/// <summary>
/// Why a model gave one image-caption pair its score: for a cross-attention model the attention of every word over
/// the image's regions, for a dot-product (VSE) model each region's additive share of the score. Computed by the
/// model itself (<see cref="MatchingModel.Explain"/>), from the same encoders and formulas as its scores, so the
/// <see cref="Score"/> here equals the score search ranks by.
/// </summary>
public sealed class ScoreExplanation
{
    /// <summary>Creates an explanation; <paramref name="weights"/> is [words x regions] for attention, [regions] for contributions.</summary>
    public ScoreExplanation(ExplanationKind kind, float score, int words, int regions, float[] weights, float[]? relevance, string meaning)
    {
        int expected = kind == ExplanationKind.WordRegionAttention ? words * regions : regions;
        if (weights.Length != expected) throw new ArgumentException($"{kind}: {weights.Length} weights for {words} words x {regions} regions.");
        Kind = kind;
        Score = score;
        Words = words;
        Regions = regions;
        Weights = weights;
        Relevance = relevance;
        Meaning = meaning;
    }

    /// <summary>What <see cref="Weights"/> holds.</summary>
    public ExplanationKind Kind { get; }

    /// <summary>The pair's score (what search ranks by).</summary>
    public float Score { get; }

    /// <summary>Tokens of the caption, &lt;start&gt; and &lt;end&gt; included (the rows of an attention matrix).</summary>
    public int Words { get; }

    /// <summary>Regions of the image (1 for a single feature vector).</summary>
    public int Regions { get; }

    /// <summary>
    /// Attention: row-major [<see cref="Words"/> x <see cref="Regions"/>], row w = how word w relates to each
    /// region (see <see cref="Meaning"/>). Contributions: [<see cref="Regions"/>], summing to <see cref="Score"/>.
    /// </summary>
    public float[] Weights { get; }

    /// <summary>
    /// The per-query relevances the score pools (SCAN: cosine of each word, t2i, or each region, i2t, with its
    /// attended vector), or null.
    /// </summary>
    public float[]? Relevance { get; }

    /// <summary>One or two sentences saying what the numbers mean for this model, for people reading them.</summary>
    public string Meaning { get; }
}
