using CrossModal.Tensors.Threading;

namespace CrossModal.Evaluation;

/// <summary>
/// The ranking rules shared by every original repository (methods reference §2.3). S is images x captions, row
/// major; caption c belongs to image c / captionsPerImage.
/// i2t: an image's rank is the best (smallest) 0-based position of any of its captions in its row sorted
/// descending. t2i: a caption's rank is the 0-based position of its image in its column sorted descending.
/// Ties: among equal scores the later index ranks first, which is what numpy's argsort(...)[::-1] gives for a
/// stable ascending sort.
/// </summary>
public static unsafe class Recall
{
    /// <summary>Ranks and metrics of a full matrix.</summary>
    public static RetrievalMetrics Evaluate(ReadOnlySpan<float> sims, int images, int captions, int captionsPerImage = 5)
    {
        var i2t = ImageToTextRanks(sims, images, captions, captionsPerImage);
        var t2i = TextToImageRanks(sims, images, captions, captionsPerImage);
        return new RetrievalMetrics(DirectionMetrics.FromRanks(i2t), DirectionMetrics.FromRanks(t2i));
    }

    /// <summary>
    /// The COCO 1K protocol's summary: <paramref name="folds"/> blocks of images x captions stacked one after the
    /// other (fold f = images f·N/5 ... against captions f·C/5 ..., the diagonal blocks of the 5K matrix), each
    /// evaluated on its own, the metrics (not the ranks) averaged.
    /// </summary>
    public static (RetrievalMetrics Mean, RetrievalMetrics[] Folds) EvaluateFolds(ReadOnlySpan<float> blocks, int folds, int imagesPerFold, int captionsPerFold, int captionsPerImage = 5)
    {
        long size = (long)imagesPerFold * captionsPerFold;
        if (folds < 1 || blocks.Length != folds * size)
            throw new ArgumentException($"{blocks.Length} scores are not {folds} blocks of {imagesPerFold} x {captionsPerFold}.");
        var result = new RetrievalMetrics[folds];
        for (int f = 0; f < folds; f++) result[f] = Evaluate(blocks.Slice((int)(f * size), (int)size), imagesPerFold, captionsPerFold, captionsPerImage);
        return (RetrievalMetrics.Average(result), result);
    }

    /// <summary>0-based i2t rank of every image.</summary>
    public static int[] ImageToTextRanks(ReadOnlySpan<float> sims, int images, int captions, int captionsPerImage = 5)
    {
        Check(sims.Length, images, captions, captionsPerImage);
        var ranks = new int[images];
        fixed (float* p = sims)
        {
            nint basePtr = (nint)p;
            Parallelism.For(images, 16, (s, e) =>
            {
                for (int i = s; i < e; i++)
                {
                    var row = new ReadOnlySpan<float>((float*)basePtr + (long)i * captions, captions);
                    int best = int.MaxValue;
                    for (int k = 0; k < captionsPerImage; k++) best = Math.Min(best, RankOf(row, i * captionsPerImage + k));
                    ranks[i] = best;
                }
            });
        }
        return ranks;
    }

    /// <summary>0-based t2i rank of every caption.</summary>
    public static int[] TextToImageRanks(ReadOnlySpan<float> sims, int images, int captions, int captionsPerImage = 5)
    {
        Check(sims.Length, images, captions, captionsPerImage);
        var ranks = new int[captions];
        fixed (float* p = sims)
        {
            nint basePtr = (nint)p;
            Parallelism.For(captions, 64, (s, e) =>
            {
                var column = new float[images];
                var m = (float*)basePtr;
                for (int c = s; c < e; c++)
                {
                    for (int i = 0; i < images; i++) column[i] = m[(long)i * captions + c];
                    ranks[c] = RankOf(column, c / captionsPerImage);
                }
            });
        }
        return ranks;
    }

    /// <summary>Position of <paramref name="target"/> when <paramref name="scores"/> is sorted descending, later index first on ties.</summary>
    public static int RankOf(ReadOnlySpan<float> scores, int target)
    {
        float t = scores[target];
        int rank = 0;
        for (int k = 0; k < scores.Length; k++)
        {
            float v = scores[k];
            if (v > t || (v == t && k > target)) rank++;
        }
        return rank;
    }

    private static void Check(int length, int images, int captions, int captionsPerImage)
    {
        if (images <= 0 || captions != images * captionsPerImage)
            throw new ArgumentException($"Expected {captionsPerImage} captions per image: {images} images, {captions} captions.");
        if (length != images * captions) throw new ArgumentException($"Similarity matrix has {length} entries, expected {images} x {captions}.");
    }
}
