namespace CrossModal.Search;

/// <summary>
/// The result of searching a batch of queries: for query q, <see cref="Ids"/> and <see cref="Scores"/> hold k
/// entries from q * k on, best first; missing entries are id -1 with score negative infinity.
/// </summary>
public sealed class SearchResult
{
    private readonly int[] _ids;
    private readonly float[] _scores;

    internal SearchResult(int queries, int k, int[] ids, float[] scores)
    {
        QueryCount = queries;
        K = k;
        _ids = ids;
        _scores = scores;
    }

    /// <summary>Number of queries.</summary>
    public int QueryCount { get; }

    /// <summary>Entries per query.</summary>
    public int K { get; }

    /// <summary>All ids, [queries x k].</summary>
    public ReadOnlySpan<int> Ids => _ids;

    /// <summary>All scores, [queries x k].</summary>
    public ReadOnlySpan<float> Scores => _scores;

    /// <summary>The ids found for query <paramref name="query"/>, best first.</summary>
    public ReadOnlySpan<int> IdsOf(int query) => _ids.AsSpan(Row(query), K);

    /// <summary>The scores of query <paramref name="query"/>, best first.</summary>
    public ReadOnlySpan<float> ScoresOf(int query) => _scores.AsSpan(Row(query), K);

    private int Row(int query)
    {
        if ((uint)query >= (uint)QueryCount) throw new ArgumentOutOfRangeException(nameof(query), query, $"The result holds {QueryCount} queries.");
        return query * K;
    }
}
