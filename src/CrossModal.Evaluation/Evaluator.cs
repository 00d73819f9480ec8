using CrossModal.Data;
using CrossModal.Distributed;
using CrossModal.Models;
using CrossModal.Tensors.Threading;

namespace CrossModal.Evaluation;

/// <summary>
/// The evaluation protocols (methods reference §2.4): a split as it is (Flickr30K 1K; COCO 5K on 'testall'), or
/// the 5-fold COCO 1K protocol on 'testall' (only the five diagonal 1K blocks are scored). Several models form an
/// ensemble: their similarity matrices are averaged (§2.5). With several ranks (mpirun) the images are split among
/// them (see <see cref="ShardedEvaluator"/>) and the metrics are exactly those of one process.
/// </summary>
public static class Evaluator
{
    /// <summary>
    /// Evaluates <paramref name="models"/> (one, or an ensemble) on <paramref name="data"/>. With
    /// <paramref name="ranks"/> of several ranks, every rank must call this with the same models and data: each
    /// scores its share of the images, rank 0 gathers the matrix and computes the metrics, and every rank returns
    /// those metrics (the similarity matrix only on rank 0; the other ranks get an empty one).
    /// </summary>
    public static EvaluationResult Evaluate(IReadOnlyList<ModelHandle> models, PrecompDataset data, bool fold5 = false,
        IProgress<EvaluationProgress>? progress = null, ICommunicator? ranks = null, CancellationToken cancellationToken = default)
    {
        if (models.Count == 0) throw new ArgumentException("No model to evaluate.");
        int n = data.ImageCount, m = data.CaptionCount;
        if (data.ImageDivisor != 5 || m != 5 * n)
            throw new InvalidDataException($"{data.CaptionsPath}: evaluation needs 5 captions per image; found {m} captions for {n} images.");
        if (fold5 && n % 5 != 0)
            throw new ArgumentException($"--fold5 splits the images into five folds; {data.Split} has {n} images (use the 5,000-image 'testall' split).");
        if (ranks is { Size: > 1 }) return ShardedEvaluator.Evaluate(models, data, fold5, progress, ranks, cancellationToken);
        int fi = fold5 ? n / 5 : n, fc = fold5 ? m / 5 : m, blocks = fold5 ? 5 : 1;
        var sums = new float[(long)blocks * fi * fc];
        for (int k = 0; k < models.Count; k++)
        {
            var model = models[k];
            progress?.Report(new EvaluationProgress(k + 1, models.Count, EvaluationStage.Encoding, n, m));
            var split = EncodedSplit.Encode(model, data, cancellationToken);
            var block = new float[(long)fi * fc];
            for (int f = 0; f < blocks; f++)
            {
                int fold = fold5 ? f + 1 : 0, modelNumber = k + 1;
                var scoreProgress = progress is null ? null : new SyncProgress<(int Done, int Total)>(p =>
                {
                    if (p.Done == p.Total || p.Done % 10 == 0)
                        progress.Report(new EvaluationProgress(modelNumber, models.Count, EvaluationStage.Scoring, n, m, p.Done, p.Total, fold));
                });
                SimilarityMatrix.ComputeBlock(model, split, f * fi, (f + 1) * fi, f * fc, (f + 1) * fc, block, scoreProgress, cancellationToken);
                var dst = sums.AsSpan((int)((long)f * fi * fc), fi * fc);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, block, dst);
            }
        }
        if (models.Count > 1) System.Numerics.Tensors.TensorPrimitives.Multiply(sums, 1f / models.Count, sums);
        if (!fold5)
            return new EvaluationResult(Recall.Evaluate(sums, n, m), null, sums, new[] { n, m });
        var (mean, folds) = Recall.EvaluateFolds(sums, 5, fi, fc);
        return new EvaluationResult(mean, folds, sums, new[] { 5, fi, fc });
    }
}
