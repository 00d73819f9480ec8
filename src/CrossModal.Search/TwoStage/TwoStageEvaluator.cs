using System.Diagnostics;
using CrossModal.Data;
using CrossModal.Evaluation;
using CrossModal.Models;
using CrossModal.Search.Exact;
using CrossModal.Search.Gallery;

namespace CrossModal.Search.TwoStage;

/// <summary>
/// Two-stage retrieval on a precomp split (methods reference 5.5; ALBEF, "Retrieve Fast, Rerank Smart"): unit
/// vectors pre-rank the whole gallery by exact inner product, and the cross-attention model scores only each
/// query's top k. The pre-ranking vectors are a second model's encodings (a VSE++ checkpoint) or, without one,
/// the cross-attention model's own: the mean of an item's region or word embeddings, normalised. The candidate
/// pairs of all queries of both directions are scored together (<see cref="PairScorer"/>), each distinct pair once.
/// </summary>
public static class TwoStageEvaluator
{
    /// <summary>
    /// Ranks <paramref name="data"/> both ways with <paramref name="model"/> re-scoring the top <paramref name="k"/>
    /// candidates of each query that <paramref name="prerank"/> (or the model's pooled vectors) finds.
    /// </summary>
    public static TwoStageResult Evaluate(ModelHandle model, PrecompDataset data, int k, ModelHandle? prerank = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        SearchArguments.CheckK(k);
        var clock = Stopwatch.StartNew();
        var images = model.EncodeImages(data, cancellationToken: cancellationToken);
        var captions = model.EncodeCaptions(data, cancellationToken: cancellationToken);
        EmbeddingSet preImages = images, preCaptions = captions;
        if (prerank is not null)
        {
            preImages = prerank.EncodeImages(data, cancellationToken: cancellationToken);
            preCaptions = prerank.EncodeCaptions(data, cancellationToken: cancellationToken);
        }
        double encodeSeconds = clock.Elapsed.TotalSeconds;
        int ni = data.ImageCount, nc = data.CaptionCount, kt = Math.Min(k, ni), ki = Math.Min(k, nc);
        clock.Restart();
        using var imageIndex = Pooled(preImages);
        using var captionIndex = Pooled(preCaptions);
        var t2iCandidates = imageIndex.Search(Pooled(preCaptions, out _), kt, cancellationToken);
        var i2tCandidates = captionIndex.Search(Pooled(preImages, out _), ki, cancellationToken);

        // Every candidate pair of both directions, each scored once, many per block scorer call.
        var pairImages = new int[nc * kt + ni * ki];
        var pairCaptions = new int[pairImages.Length];
        int at = 0;
        for (int c = 0; c < nc; c++)
            foreach (int i in t2iCandidates.IdsOf(c)) { pairImages[at] = i; pairCaptions[at++] = c; }
        for (int i = 0; i < ni; i++)
            foreach (int c in i2tCandidates.IdsOf(i)) { pairImages[at] = i; pairCaptions[at++] = c; }
        var pairs = new CandidatePairs(ni, nc, pairImages, pairCaptions);
        var pairScores = new float[pairs.Count];
        PairScorer.Score(model, images, captions, pairs, pairScores, cancellationToken);

        // Ranks as Recall computes them (higher score first, among equal scores the later index first), within the
        // candidates; a match that is not a candidate ranks after everything (rank = gallery size).
        var t2iRanks = new int[nc];
        var i2tRanks = new int[ni];
        int hitsT2I = 0, hitsI2T = 0;
        var scores = new float[Math.Max(kt, ki)];
        for (int c = 0; c < nc; c++)
        {
            var ids = t2iCandidates.IdsOf(c);
            for (int j = 0; j < ids.Length; j++) scores[j] = pairScores[pairs.IndexOf(ids[j], c)];
            int truth = data.ImageOf(c), found = ids.IndexOf(truth);
            t2iRanks[c] = found < 0 ? ni : RankAmong(scores.AsSpan(0, ids.Length), ids, found);
            if (found >= 0) hitsT2I++;
        }
        for (int i = 0; i < ni; i++)
        {
            var ids = i2tCandidates.IdsOf(i);
            for (int j = 0; j < ids.Length; j++) scores[j] = pairScores[pairs.IndexOf(i, ids[j])];
            int best = nc;
            for (int j = 0; j < ids.Length; j++)
                if (data.ImageOf(ids[j]) == i) best = Math.Min(best, RankAmong(scores.AsSpan(0, ids.Length), ids, j));
            i2tRanks[i] = best;
            if (best < nc) hitsI2T++;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        var metrics = new RetrievalMetrics(DirectionMetrics.FromRanks(i2tRanks), DirectionMetrics.FromRanks(t2iRanks));
        return new TwoStageResult(metrics, k, prerank?.Source ?? "pooled", pairs.Count, (long)ni * nc, seconds,
            (double)hitsT2I / nc, (double)hitsI2T / ni, encodeSeconds);
    }

    /// <summary>0-based rank of candidate <paramref name="at"/>: candidates scoring higher, or equal with a later id, come first.</summary>
    private static int RankAmong(ReadOnlySpan<float> scores, ReadOnlySpan<int> ids, int at)
    {
        int rank = 0;
        for (int j = 0; j < scores.Length; j++)
            if (scores[j] > scores[at] || (scores[j] == scores[at] && ids[j] > ids[at])) rank++;
        return rank;
    }

    /// <summary>An exact index over the pooled unit vectors of <paramref name="set"/>.</summary>
    private static ExactIndex Pooled(EmbeddingSet set)
    {
        var index = new ExactIndex(set.Dim);
        index.Add(Pooled(set, out _));
        return index;
    }

    private static float[] Pooled(EmbeddingSet set, out int count)
    {
        count = set.Count;
        var pooled = new float[set.Count * set.Dim];
        for (int i = 0; i < set.Count; i++) GalleryCollection.Pool(set.Item(i), set.Dim, pooled.AsSpan(i * set.Dim, set.Dim), $"item {i}");
        return pooled;
    }

}
