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
/// the cross-attention model's own: the mean of an item's region or word embeddings, normalised.
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
        var images = model.EncodeImages(data, cancellationToken: cancellationToken);
        var captions = model.EncodeCaptions(data, cancellationToken: cancellationToken);
        EmbeddingSet preImages = images, preCaptions = captions;
        if (prerank is not null)
        {
            preImages = prerank.EncodeImages(data, cancellationToken: cancellationToken);
            preCaptions = prerank.EncodeCaptions(data, cancellationToken: cancellationToken);
        }
        int ni = data.ImageCount, nc = data.CaptionCount, kt = Math.Min(k, ni), ki = Math.Min(k, nc);
        var clock = Stopwatch.StartNew();
        using var imageIndex = Pooled(preImages);
        using var captionIndex = Pooled(preCaptions);
        var t2iCandidates = imageIndex.Search(Pooled(preCaptions, out _), kt, cancellationToken);
        var i2tCandidates = captionIndex.Search(Pooled(preImages, out _), ki, cancellationToken);

        // Ranks as Recall computes them (higher score first, among equal scores the later index first), within the
        // candidates; a match that is not a candidate ranks after everything (rank = gallery size).
        var t2iRanks = new int[nc];
        var i2tRanks = new int[ni];
        int hitsT2I = 0, hitsI2T = 0;
        var scores = new float[Math.Max(kt, ki)];
        for (int c = 0; c < nc; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ids = t2iCandidates.IdsOf(c);
            model.ScoreBlock(Gather(images, ids), 0, ids.Length, captions, c, c + 1, scores, 1);
            int truth = data.ImageOf(c), at = ids.IndexOf(truth);
            t2iRanks[c] = at < 0 ? ni : RankAmong(scores.AsSpan(0, ids.Length), ids, at);
            if (at >= 0) hitsT2I++;
        }
        for (int i = 0; i < ni; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ids = i2tCandidates.IdsOf(i);
            model.ScoreBlock(images, i, i + 1, Gather(captions, ids), 0, ids.Length, scores, ids.Length);
            int best = nc;
            for (int j = 0; j < ids.Length; j++)
                if (data.ImageOf(ids[j]) == i) best = Math.Min(best, RankAmong(scores.AsSpan(0, ids.Length), ids, j));
            i2tRanks[i] = best;
            if (best < nc) hitsI2T++;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        var metrics = new RetrievalMetrics(DirectionMetrics.FromRanks(i2tRanks), DirectionMetrics.FromRanks(t2iRanks));
        return new TwoStageResult(metrics, k, prerank?.Source ?? "pooled", (long)nc * kt + (long)ni * ki, (long)ni * nc, seconds,
            (double)hitsT2I / nc, (double)hitsI2T / ni);
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

    private static EmbeddingSet Gather(EmbeddingSet set, ReadOnlySpan<int> ids)
    {
        var gathered = new EmbeddingSet(set.Dim);
        foreach (int id in ids) gathered.Append(set.Item(id));
        return gathered;
    }
}
