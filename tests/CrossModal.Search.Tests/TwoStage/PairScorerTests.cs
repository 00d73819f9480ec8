using CrossModal.Evaluation;
using CrossModal.Search.Tests.Gallery;
using CrossModal.Search.TwoStage;
using CrossModal.Tensors;
using CrossModal.Tensors.Threading;
using CrossModal.Tests;

namespace CrossModal.Search.Tests.TwoStage;

[Collection(ThreadCountCollection.Name)]
public class PairScorerTests
{
    /// <summary>
    /// Random pair sets (grouped by image, and by caption), scored in groups with 1 and 2 threads, against the
    /// full similarity matrix that full scoring computes (SimilarityMatrix, the evaluator's path), for both
    /// attention directions (the owner of SCAN's block is the image for t2i, the caption for i2t).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_EqualFullScoring_OnEveryPair(bool imageToText)
    {
        using var f = new GalleryFixture("scan", testImages: 12, imageToText: imageToText);
        var ct = TestContext.Current.CancellationToken;
        var images = f.Model.EncodeImages(f.Test, cancellationToken: ct);
        var captions = f.Model.EncodeCaptions(f.Test, cancellationToken: ct);
        var full = SimilarityMatrix.Compute(f.Model, new EncodedSplit(images, captions), cancellationToken: ct);
        int ni = images.Count, nc = captions.Count;
        var rng = new Rng(5);
        int keep = Parallelism.Threads;
        try
        {
            // Many captions per image (grouped by image) and many images per caption (grouped by caption).
            foreach (var (pi, pc) in new[] { (3, nc), (ni, 2) })
            {
                var pairImages = new List<int>();
                var pairCaptions = new List<int>();
                for (int p = 0; p < 200; p++)
                {
                    pairImages.Add((int)(rng.NextUInt64() % (ulong)pi));
                    pairCaptions.Add((int)(rng.NextUInt64() % (ulong)pc));
                }
                var pairs = new CandidatePairs(ni, nc, pairImages.ToArray(), pairCaptions.ToArray());
                Assert.Equal(pi > pc, !pairs.ByImage);
                foreach (int threads in new[] { 1, 2 })
                {
                    Parallelism.Threads = threads;
                    var scores = new float[pairs.Count];
                    PairScorer.Score(f.Model, images, captions, pairs, scores, ct);
                    for (int p = 0; p < pairImages.Count; p++)
                    {
                        int i = pairImages[p], c = pairCaptions[p];
                        Assert.Equal(full[i * nc + c], scores[pairs.IndexOf(i, c)], 1e-5f);
                    }
                }
            }
        }
        finally { Parallelism.Threads = keep; }
    }
}
