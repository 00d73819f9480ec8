using System.Buffers;

namespace CrossModal.Search.Selection;

/// <summary>
/// The best k (score, id) pairs of each of several queries, one binary heap per query whose root is the worst kept
/// entry. "Better" is: higher score, or equal score and lower id - the index-wide tie rule. A scan that feeds ids
/// in increasing order only needs to offer scores at or above <see cref="Threshold"/>. Storage is pooled; dispose
/// to return it.
/// </summary>
internal sealed class TopK : IDisposable
{
    private readonly float[] _scores;
    private readonly int[] _ids;
    private readonly int[] _counts;

    public TopK(int queries, int k)
    {
        Queries = queries;
        K = k;
        _scores = ArrayPool<float>.Shared.Rent(queries * k);
        _ids = ArrayPool<int>.Shared.Rent(queries * k);
        _counts = ArrayPool<int>.Shared.Rent(queries);
        Array.Clear(_counts, 0, queries);
    }

    public int Queries { get; }

    public int K { get; }

    /// <summary>True when (s1, id1) ranks before (s2, id2).</summary>
    public static bool Better(float s1, int id1, float s2, int id2) => s1 > s2 || (s1 == s2 && id1 < id2);

    /// <summary>The score an offer must reach to have a chance: the worst kept score once k are kept, else -inf.</summary>
    public float Threshold(int query) => _counts[query] == K ? _scores[query * K] : float.NegativeInfinity;

    /// <summary>Keeps (score, id) for <paramref name="query"/> if it is among the best k seen so far.</summary>
    public void Offer(int query, float score, int id)
    {
        int b = query * K, n = _counts[query];
        if (n < K)
        {
            // Sift up from the new leaf: parents are worse than children.
            int i = n;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (!Better(_scores[b + parent], _ids[b + parent], score, id)) break;
                _scores[b + i] = _scores[b + parent];
                _ids[b + i] = _ids[b + parent];
                i = parent;
            }
            _scores[b + i] = score;
            _ids[b + i] = id;
            _counts[query] = n + 1;
            return;
        }
        if (!Better(score, id, _scores[b], _ids[b])) return;
        SiftDown(b, K, score, id);
    }

    /// <summary>Puts (score, id) at the root of the heap of <paramref name="n"/> entries at <paramref name="b"/> and sifts it down towards the worse child.</summary>
    private void SiftDown(int b, int n, float score, int id)
    {
        int at = 0;
        while (true)
        {
            int left = 2 * at + 1;
            if (left >= n) break;
            int worse = left;
            int right = left + 1;
            if (right < n && Better(_scores[b + left], _ids[b + left], _scores[b + right], _ids[b + right])) worse = right;
            if (!Better(score, id, _scores[b + worse], _ids[b + worse])) break;
            _scores[b + at] = _scores[b + worse];
            _ids[b + at] = _ids[b + worse];
            at = worse;
        }
        _scores[b + at] = score;
        _ids[b + at] = id;
    }

    /// <summary>Offers every entry kept by <paramref name="other"/> (same queries and k): the merge of two partial scans.</summary>
    public void Merge(TopK other)
    {
        for (int q = 0; q < Queries; q++)
        {
            int b = q * K;
            for (int i = 0; i < other._counts[q]; i++) Offer(q, other._scores[b + i], other._ids[b + i]);
        }
    }

    /// <summary>
    /// Writes query <paramref name="query"/>'s entries best first into the k slots of <paramref name="ids"/> and
    /// <paramref name="scores"/>, padding with (-1, -inf), and empties that query's heap (heapsort: the worst entry
    /// is popped to the back each time; no allocation).
    /// </summary>
    public void Drain(int query, Span<int> ids, Span<float> scores)
    {
        int b = query * K, n = _counts[query];
        scores[n..].Fill(float.NegativeInfinity);
        ids[n..].Fill(-1);
        for (int last = n - 1; last >= 0; last--)
        {
            scores[last] = _scores[b];
            ids[last] = _ids[b];
            if (last > 0) SiftDown(b, last, _scores[b + last], _ids[b + last]);
        }
        _counts[query] = 0;
    }

    public void Dispose()
    {
        ArrayPool<float>.Shared.Return(_scores);
        ArrayPool<int>.Shared.Return(_ids);
        ArrayPool<int>.Shared.Return(_counts);
    }
}
