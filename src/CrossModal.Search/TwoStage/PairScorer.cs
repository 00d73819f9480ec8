using CrossModal.Models;
using CrossModal.Tensors.Threading;

namespace CrossModal.Search.TwoStage;

/// <summary>
/// Scores a sparse set of image x caption pairs with the model's block scorer (<see cref="ModelHandle.ScoreBlock"/>,
/// the path full scoring takes): one call per group of <see cref="CandidatePairs"/> (one image against all captions
/// paired with it, or one caption against its images), in pieces of at most the model's shard size, the pieces
/// spread over the cores in runs of equal pair counts; each call runs on one core (nested parallel regions run
/// inline), unless there is only one piece. Scoring queries one at a time instead made every call a 1 x k block whose per-owner
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
        var pieces = Pieces(pairs, Math.Max(1, model.ShardSize), Parallelism.Threads);
        int tasks = Math.Min(pieces.Count, Parallelism.Threads <= 1 ? 1 : 4 * Parallelism.Threads);
        if (tasks <= 1)
        {
            // One piece of work: let the block scorer use the cores itself.
            ScorePieces(model, images, captions, pairs, pieces, 0, pieces.Count, scores, cancellationToken);
            return;
        }
        // Contiguous runs of pieces holding about equal numbers of pairs (groups differ in size).
        var bounds = new int[tasks + 1];
        long done = 0;
        for (int p = 0, t = 1; p < pieces.Count && t < tasks; p++)
        {
            done += pieces[p].Count;
            if (done * tasks >= (long)pairs.Count * t) bounds[t++] = p + 1;
        }
        for (int t = 1; t <= tasks; t++) bounds[t] = Math.Max(bounds[t], bounds[t - 1]);
        bounds[tasks] = pieces.Count;
        Parallelism.ForEachTask(tasks, t => ScorePieces(model, images, captions, pairs, pieces, bounds[t], bounds[t + 1], scores, cancellationToken));
    }

    /// <summary>
    /// Each group cut into pieces of at most the shard size, smaller when there are few pairs (a single query's
    /// k candidates still fill both cores): about 4 pieces per thread, at least 16 pairs each.
    /// </summary>
    private static List<(int Group, int Offset, int Count)> Pieces(CandidatePairs pairs, int shard, int threads)
    {
        int size = (int)Math.Clamp((pairs.Count + 4L * threads - 1) / (4L * threads), Math.Min(16, shard), shard);
        var pieces = new List<(int, int, int)>();
        for (int g = 0; g < pairs.GroupCount; g++)
        {
            int n = pairs.Partners(g).Length;
            for (int p0 = 0; p0 < n; p0 += size) pieces.Add((g, p0, Math.Min(size, n - p0)));
        }
        return pieces;
    }

    private static void ScorePieces(ModelHandle model, EmbeddingSet images, EmbeddingSet captions, CandidatePairs pairs,
        List<(int Group, int Offset, int Count)> pieces, int from, int to, float[] scores, CancellationToken cancellationToken)
    {
        var side = pairs.ByImage ? captions : images;
        var gathered = new EmbeddingSet(side.Dim);
        for (int i = from; i < to; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (g, p0, n) = pieces[i];
            gathered.Clear();
            foreach (int id in pairs.Partners(g).Slice(p0, n)) gathered.Append(side.Item(id));
            var output = scores.AsSpan(pairs.Start(g) + p0, n);
            if (pairs.ByImage) model.ScoreBlock(images, g, g + 1, gathered, 0, n, output, n);
            else model.ScoreBlock(gathered, 0, n, captions, g, g + 1, output, 1);
        }
    }
}
