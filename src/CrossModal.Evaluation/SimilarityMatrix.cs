using CrossModal.Models;

namespace CrossModal.Evaluation;

/// <summary>
/// The images x captions score matrix of one model, computed in shards of the model's block size (SCAN: 128 x 128,
/// as the original's shard_xattn) written into one float32 matrix, so memory is the matrix plus one shard's
/// intermediates.
/// </summary>
public static class SimilarityMatrix
{
    /// <summary>Scores every image against every caption; returns images x captions, row major.</summary>
    public static float[] Compute(ModelHandle model, EncodedSplit split, IProgress<(int Done, int Total)>? progress = null,
        CancellationToken cancellationToken = default)
    {
        int n = split.Images.Count, m = split.Captions.Count;
        var sims = new float[(long)n * m];
        ComputeBlock(model, split, 0, n, 0, m, sims, progress, cancellationToken);
        return sims;
    }

    /// <summary>Scores images [i0, i1) against captions [j0, j1) into a (i1-i0) x (j1-j0) matrix.</summary>
    public static void ComputeBlock(ModelHandle model, EncodedSplit split, int i0, int i1, int j0, int j1, Span<float> output,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        int shard = model.ShardSize;
        int width = j1 - j0;
        long rowBlocks = ((long)(i1 - i0) + shard - 1) / shard, colBlocks = ((long)(j1 - j0) + shard - 1) / shard;
        int total = (int)Math.Max(1, rowBlocks * colBlocks), done = 0;
        for (int a = i0; a < i1; a += Math.Min(shard, i1 - a))
        {
            int a1 = (int)Math.Min((long)a + shard, i1);
            for (int b = j0; b < j1; b += Math.Min(shard, j1 - b))
            {
                cancellationToken.ThrowIfCancellationRequested();
                int b1 = (int)Math.Min((long)b + shard, j1);
                model.ScoreBlock(split.Images, a, a1, split.Captions, b, b1, output.Slice((a - i0) * width + (b - j0)), width);
                progress?.Report((++done, total));
            }
        }
    }
}
