using CrossModal.Evaluation;
using CrossModal.Search.Tests.Gallery;
using CrossModal.Search.TwoStage;

namespace CrossModal.Search.Tests.TwoStage;

public class TwoStageEvaluatorTests
{
    [Fact]
    public void Should_EqualFullScoring_WhenEveryItemIsACandidate()
    {
        using var f = new GalleryFixture("scan", testImages: 12);
        var full = Evaluator.Evaluate([f.Model], f.Test, cancellationToken: TestContext.Current.CancellationToken);
        var two = TwoStageEvaluator.Evaluate(f.Model, f.Test, k: f.Test.CaptionCount, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(full.Metrics, two.Metrics);
        Assert.Equal(1.0, two.CandidateRecallT2I);
        Assert.Equal(1.0, two.CandidateRecallI2T);
        Assert.Equal(12L * 60, two.FullPairScores);
    }

    [Fact]
    public void Should_ScoreOnlyTheCandidates_AndRankMissesAfterThem()
    {
        using var f = new GalleryFixture("scan", testImages: 12);
        using var other = new GalleryFixture("vsepp", testImages: 12);
        foreach (var prerank in new[] { null, other.Model })
        {
            var two = TwoStageEvaluator.Evaluate(f.Model, f.Test, k: 3, prerank, TestContext.Current.CancellationToken);
            // Each caption's 3 candidates are distinct pairs (180); an image's 3 candidate captions add at most 36,
            // fewer where a caption already has that image among its candidates (scored once).
            Assert.InRange(two.PairScores, 60L * 3, 60L * 3 + 12L * 3);
            // R@1 counts a query only if its match is a candidate and the model ranks it first among them, so it
            // can exceed full scoring's only where full scoring ranked a non-candidate first; R@5 and R@10 are
            // capped by the candidates' hit rate.
            Assert.True(two.Metrics.T2I.R5 <= 100 * two.CandidateRecallT2I + 1e-9);
            Assert.True(two.Metrics.I2T.R10 <= 100 * two.CandidateRecallI2T + 1e-9);
            Assert.Equal(prerank is null ? "pooled" : other.Model.Source, two.Prerank);
        }
    }
}
