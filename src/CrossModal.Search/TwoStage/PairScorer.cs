using CrossModal.Models;
using CrossModal.Tensors.Threading;

namespace CrossModal.Search.TwoStage;

/// <summary>
/// Scores a sparse set of image x caption pairs with the model's block scorer (<see cref="ModelHandle.ScoreBlock"/>,
/// the path full scoring takes): one call per group of <see cref="CandidatePairs"/> (one image against all captions
/// paired with it, or one caption against its images), in pieces of at most the model's shard size, the groups
/// spread over the cores. Scoring queries one at a time instead made every call a 1 x k block whose per-owner
/// work (SCAN: the Gram matrix of the owner's rows, the attention workspace) was paid once per pair and ran on one
/// owner at a time, which made two-stage slower in wall time than full scoring on f8k (160 s vs 60 s).
/// </summary>
public static class PairScorer
{
    /// <summary>
    /// Writes the score of every pair of <paramref name="pairs"/> into <paramref name="scores"/> (pair order:
    /// <see cref="CandidatePairs.Start"/>, <see cref="CandidatePairs.IndexOf"/>).
    /// </summary>
    public static void Score(ModelHandle model, EmbeddingSet images, EmbeddingSet captions, CandidatePairs pairs, float[] scores,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(captions);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(scores);
        if (images.Count != pairs.ImageCount || captions.Count != pairs.CaptionCount)
            throw new ArgumentException($"The pairs refer to {pairs.ImageCount} images and {pairs.CaptionCount} captions; got {images.Count} and {captions.Count}.");
        if (scores.Length < pairs.Count) throw new ArgumentException($"{scores.Length} scores for {pairs.Count} pairs.");
        if (pairs.Count == 0) return;
        var ranges = Ranges(pairs, Parallelism.Threads);
        if (ranges.Length <= 2)
        {
            // One piece of work: let the block scorer use the cores itself.
            ScoreGroups(model, images, captions, pairs, 0, pairs.GroupCount, scores, cancellationToken);
            return;
        }
        Parallelism.ForEachTask(ranges.Length - 1, t =>
            ScoreGroups(model, images, captions, pairs, ranges[t], ranges[t + 1], scores, cancellationToken));
    }

    /// <summary>
    /// Group boundaries of about 4 tasks per thread holding equal numbers of pairs (groups differ in size, so equal
    /// group counts would leave a core idle).
    /// </summary>
    private static int[] Ranges(CandidatePairs pairs, int threads)
    {
        int tasks = threads <= 1 ? 1 : 4 * threads;
        long total = pairs.Count;
        var bounds = new List<int> { 0 };
        for (int g = 0; g < pairs.GroupCount - 1 && bounds.Count < tasks; g++)
            if ((long)pairs.Start(g + 1) * tasks >= total * bounds.Count) bounds.Add(g + 1);
        bounds.Add(pairs.GroupCount);
        return bounds.ToArray();
    }

    private static void ScoreGroups(ModelHandle model, EmbeddingSet images, EmbeddingSet captions, CandidatePairs pairs, int g0, int g1,
        float[] scores, CancellationToken cancellationToken)
    {
        var side = pairs.ByImage ? captions : images;
        var gathered = new EmbeddingSet(side.Dim);
        int shard = Math.Max(1, model.ShardSize);
        for (int g = g0; g < g1; g++)
        {
            var partners = pairs.Partners(g);
            for (int p0 = 0; p0 < partners.Length; p0 += shard)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(shard, partners.Length - p0);
                gathered.Clear();
                foreach (int id in partners.Slice(p0, n)) gathered.Append(side.Item(id));
                var output = scores.AsSpan(pairs.Start(g) + p0, n);
                if (pairs.ByImage) model.ScoreBlock(images, g, g + 1, gathered, 0, n, output, n);
                else model.ScoreBlock(gathered, 0, n, captions, g, g + 1, output, 1);
            }
        }
    }
}
