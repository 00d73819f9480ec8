using CrossModal.Data;
using CrossModal.Distributed;
using CrossModal.Models;
using CrossModal.Tensors.Threading;

namespace CrossModal.Evaluation;

/// <summary>
/// The evaluation protocols on several ranks, with exactly the metrics of one process. The images x captions matrix
/// (each fold's diagonal block with --fold5) is split by image shards: rank r scores a contiguous range of each block's
/// images, whole scoring shards from the block's start (<see cref="Partition.Contiguous"/>), against every caption,
/// and rank 0 gathers the rows. Every computation is one the single process also does on the same inputs, so the
/// scores are bit-identical: the captions are encoded in whole encoding batches of 128 from the start of the split
/// (each rank a contiguous run of them, then all-gathered), the images a rank scores in the 128-image encoding
/// batches that cover them (neighbouring ranks may both encode a boundary batch), and the scoring shards of a rank's
/// range are the single process's shards. An ensemble's matrices are summed per rank in model order and averaged at
/// rank 0 after the gather, as one process does.
/// </summary>
internal static class ShardedEvaluator
{
    /// <summary>The encoding batch of <see cref="ModelHandle"/>'s split encoders.</summary>
    private const int EncodeBatch = 128;

    public static EvaluationResult Evaluate(IReadOnlyList<ModelHandle> models, PrecompDataset data, bool fold5,
        IProgress<EvaluationProgress>? progress, ICommunicator ranks, CancellationToken cancellationToken)
    {
        int n = data.ImageCount, m = data.CaptionCount;
        int fi = fold5 ? n / 5 : n, fc = fold5 ? m / 5 : m, blocks = fold5 ? 5 : 1;
        int shard = ShardAlignment(models);
        // This rank's image range within each block, relative to the block's first image.
        var (r0, r1) = Partition.Contiguous(fi, ranks.Rank, ranks.Size, shard);
        int rows = r1 - r0;
        var mine = new float[(long)blocks * rows * fc];
        for (int k = 0; k < models.Count; k++)
        {
            var model = models[k];
            progress?.Report(new EvaluationProgress(k + 1, models.Count, EvaluationStage.Encoding, n, m));
            var captions = EncodeAllCaptions(model, data, ranks, cancellationToken);
            var block = new float[(long)rows * fc];
            for (int f = 0; f < blocks; f++)
            {
                if (rows == 0) continue;
                int i0 = f * fi + r0, i1 = f * fi + r1;
                int e0 = i0 / EncodeBatch * EncodeBatch, e1 = Math.Min(n, (i1 + EncodeBatch - 1) / EncodeBatch * EncodeBatch);
                var images = model.EncodeImages(data, e0, e1 - e0, EncodeBatch, cancellationToken);
                int fold = fold5 ? f + 1 : 0, modelNumber = k + 1;
                var scoreProgress = progress is null ? null : new SyncProgress<(int Done, int Total)>(p =>
                {
                    if (p.Done == p.Total || p.Done % 10 == 0)
                        progress.Report(new EvaluationProgress(modelNumber, models.Count, EvaluationStage.Scoring, n, m, p.Done, p.Total, fold));
                });
                SimilarityMatrix.ComputeBlock(model, new EncodedSplit(images, captions), i0 - e0, i1 - e0, f * fc, (f + 1) * fc, block,
                    scoreProgress, cancellationToken);
                var dst = mine.AsSpan((int)((long)f * rows * fc), rows * fc);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, block, dst);
            }
        }

        // Rank 0 gathers every rank's rows of every block into the one-process layout.
        var counts = Partition.ContiguousCounts(fi, ranks.Size, shard).Select(c => checked(blocks * c * fc)).ToArray();
        bool root = ranks.Rank == 0;
        var gathered = root ? new float[(long)blocks * fi * fc] : Array.Empty<float>();
        ranks.GatherV<float>(mine, gathered, counts, 0);
        float[] sims = Array.Empty<float>();
        var numbers = new double[10 * (1 + (fold5 ? 5 : 0))];
        if (root)
        {
            sims = new float[(long)blocks * fi * fc];
            int offset = 0;
            for (int r = 0; r < ranks.Size; r++)
            {
                var (a0, a1) = Partition.Contiguous(fi, r, ranks.Size, shard);
                int rRows = a1 - a0;
                for (int f = 0; f < blocks; f++)
                {
                    gathered.AsSpan(offset, rRows * fc).CopyTo(sims.AsSpan((int)((long)f * fi * fc + (long)a0 * fc), rRows * fc));
                    offset += rRows * fc;
                }
            }
            if (models.Count > 1) System.Numerics.Tensors.TensorPrimitives.Multiply(sims, 1f / models.Count, sims);
            if (!fold5) Write(Recall.Evaluate(sims, n, m), numbers, 0);
            else
            {
                var (mean, folds) = Recall.EvaluateFolds(sims, 5, fi, fc);
                Write(mean, numbers, 0);
                for (int f = 0; f < 5; f++) Write(folds[f], numbers, 1 + f);
            }
        }
        // Every rank returns rank 0's metrics (the trainer's validation needs them on every rank).
        ranks.Broadcast<double>(numbers, 0);
        var shape = fold5 ? new[] { 5, fi, fc } : new[] { n, m };
        var metrics = Read(numbers, 0);
        var foldMetrics = fold5 ? Enumerable.Range(1, 5).Select(f => Read(numbers, f)).ToArray() : null;
        return new EvaluationResult(metrics, foldMetrics, sims, shape);
    }

    /// <summary>Every caption of the split, encoded in whole 128-caption batches shared among the ranks, then all-gathered.</summary>
    private static EmbeddingSet EncodeAllCaptions(ModelHandle model, PrecompDataset data, ICommunicator ranks, CancellationToken cancellationToken)
    {
        int m = data.CaptionCount;
        var (c0, c1) = Partition.Contiguous(m, ranks.Rank, ranks.Size, EncodeBatch);
        var local = model.EncodeCaptions(data, c0, c1 - c0, EncodeBatch, cancellationToken);
        return EmbeddingExchange.AllGather(ranks, local, Partition.ContiguousCounts(m, ranks.Size, EncodeBatch));
    }

    /// <summary>
    /// What a rank's range must be a multiple of so that its scoring shards are the single process's: the least common
    /// multiple of the models' shard sizes (a model scored in one block, VSE++'s GEMM, imposes nothing: each element of
    /// a GEMM is the same however its rows are split), 128 when no model shards.
    /// </summary>
    private static int ShardAlignment(IReadOnlyList<ModelHandle> models)
    {
        long align = 1;
        foreach (var h in models)
            if (h.ShardSize < int.MaxValue) align = align / (long)System.Numerics.BigInteger.GreatestCommonDivisor(align, h.ShardSize) * h.ShardSize;
        return (int)Math.Min(int.MaxValue, align == 1 ? EncodeBatch : align);
    }

    private static void Write(RetrievalMetrics metrics, double[] numbers, int slot)
    {
        int at = slot * 10;
        foreach (var d in new[] { metrics.I2T, metrics.T2I })
        {
            numbers[at++] = d.R1; numbers[at++] = d.R5; numbers[at++] = d.R10; numbers[at++] = d.Medr; numbers[at++] = d.Meanr;
        }
    }

    private static RetrievalMetrics Read(double[] numbers, int slot)
    {
        int at = slot * 10;
        DirectionMetrics D() { var d = new DirectionMetrics(numbers[at], numbers[at + 1], numbers[at + 2], numbers[at + 3], numbers[at + 4]); at += 5; return d; }
        var i2t = D();
        return new RetrievalMetrics(i2t, D());
    }
}
