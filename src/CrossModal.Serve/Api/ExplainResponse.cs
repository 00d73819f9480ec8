namespace CrossModal.Serve.Api;

/// <summary>Why one image got its score for one query.</summary>
/// <param name="Query">The query.</param>
/// <param name="Id">The gallery image.</param>
/// <param name="Name">Its file name.</param>
/// <param name="Kind">"word_region_attention" (SCAN-style: one map per word) or "region_contributions" (VSE-style: one map of signed shares).</param>
/// <param name="Meaning">What the numbers mean for this model.</param>
/// <param name="Score">The pair's score (equal to the search score in full mode).</param>
/// <param name="Words">The tokens the maps belong to, &lt;start&gt; and &lt;end&gt; included (for contributions: the whole query, one map).</param>
/// <param name="Regions">Regions per image.</param>
/// <param name="Grid">Side of the square region grid (6 for 36 cells, row-major from the top left), 0 when the regions are not a grid.</param>
/// <param name="Weights">One row per entry of <paramref name="Words"/>, one value per region.</param>
/// <param name="Relevance">SCAN: per word (t2i) or per region (i2t) relevance the score pools; null otherwise.</param>
/// <param name="Thumbnail">URL of the image.</param>
public sealed record ExplainResponse(string Query, int Id, string Name, string Kind, string Meaning, float Score, IReadOnlyList<string> Words,
    int Regions, int Grid, IReadOnlyList<float[]> Weights, float[]? Relevance, string Thumbnail);
