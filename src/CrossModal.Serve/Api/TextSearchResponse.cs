namespace CrossModal.Serve.Api;

/// <summary>The answer to a text query: the best images, best first.</summary>
/// <param name="Query">The query as received.</param>
/// <param name="Mode">"full" (every image scored by the model) or "two-stage" (pooled vectors pick candidates, the model re-scores them).</param>
/// <param name="Tokens">The query's tokens, &lt;start&gt; and &lt;end&gt; excluded.</param>
/// <param name="UnknownWords">Tokens the vocabulary does not hold (read as &lt;unk&gt;).</param>
/// <param name="Results">The top images.</param>
/// <param name="PairScores">Image-caption pairs the model scored for this query.</param>
/// <param name="ElapsedMs">Server time spent on the query.</param>
public sealed record TextSearchResponse(string Query, string Mode, IReadOnlyList<QueryToken> Tokens, IReadOnlyList<string> UnknownWords,
    IReadOnlyList<SearchHit> Results, long PairScores, double ElapsedMs);
