using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors;
using CrossModal.Tensors.Threading;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Evaluation.Tests;

/// <summary>The protocols end to end on a small split, with untrained models (the scores only need to vary).</summary>
public class EvaluatorTests
{
    private static ModelHandle Model(string kind, ulong seed, Vocabulary vocab)
    {
        MatchingConfig config = kind == "scan"
            ? new ScanConfig { ImgDim = 8, EmbedSize = 6, WordDim = 4, VocabSize = vocab.Count }
            : new VseConfig { ImgDim = 8, EmbedSize = 6, WordDim = 4, VocabSize = vocab.Count };
        var model = (MatchingModel)config.Family.Create(config, new Rng(seed));
        model.Eval();
        return new ModelHandle(model, vocab);
    }

    [Theory]
    [InlineData("vsepp", 0)]
    [InlineData("scan", 3)]
    public void Should_ScoreOnlyTheDiagonalBlocks_WithFold5(string kind, int regions)
    {
        using var data = new TinyPrecomp(testImages: 10, regions: regions);
        var vocab = Vocabulary.Load(data.VocabPath);
        using var test = PrecompDataset.Open(data.Directory, "test", vocab, cancellationToken: TestContext.Current.CancellationToken);
        var model = Model(kind, 1, vocab);
        var full = Evaluator.Evaluate(new[] { model }, test, cancellationToken: TestContext.Current.CancellationToken);
        var folds = Evaluator.Evaluate(new[] { model }, test, fold5: true, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(new[] { 10, 50 }, full.SimilarityShape);
        Assert.Equal(new[] { 5, 2, 10 }, folds.SimilarityShape);
        // Each fold's metrics are those of the full matrix's diagonal block, and the summary is their mean.
        var expectedFolds = Enumerable.Range(0, 5).Select(f => Recall.Evaluate(
            Enumerable.Range(0, 2).SelectMany(i => full.Similarities.AsSpan((2 * f + i) * 50 + 10 * f, 10).ToArray()).ToArray(), 2, 10)).ToArray();
        Assert.Equal(expectedFolds, folds.Folds);
        Assert.Equal(RetrievalMetrics.Average(expectedFolds), folds.Metrics);
        // Fold f's block is the full matrix's diagonal block f.
        for (int f = 0; f < 5; f++)
            for (int i = 0; i < 2; i++)
                for (int c = 0; c < 10; c++)
                    Assert.Equal(full.Similarities[(2 * f + i) * 50 + 10 * f + c], folds.Similarities[(f * 2 + i) * 10 + c]);
    }

    [Fact]
    public void Should_AverageTheMatrices_OfAnEnsemble()
    {
        using var data = new TinyPrecomp(testImages: 6, regions: 3);
        var vocab = Vocabulary.Load(data.VocabPath);
        using var test = PrecompDataset.Open(data.Directory, "test", vocab, cancellationToken: TestContext.Current.CancellationToken);
        var a = Model("scan", 1, vocab);
        var b = Model("scan", 2, vocab);
        var sa = Evaluator.Evaluate(new[] { a }, test, cancellationToken: TestContext.Current.CancellationToken).Similarities;
        var sb = Evaluator.Evaluate(new[] { b }, test, cancellationToken: TestContext.Current.CancellationToken).Similarities;
        var ensemble = Evaluator.Evaluate(new[] { a, b }, test, cancellationToken: TestContext.Current.CancellationToken);
        for (int i = 0; i < sa.Length; i++) Assert.Equal((sa[i] + sb[i]) / 2, ensemble.Similarities[i], 6);
        Assert.Equal(Recall.Evaluate(ensemble.Similarities, 6, 30), ensemble.Metrics);
    }

    [Fact]
    public void Should_RefuseFold5_OnASplitThatDoesNotDivide()
    {
        using var data = new TinyPrecomp(testImages: 6);
        var vocab = Vocabulary.Load(data.VocabPath);
        using var test = PrecompDataset.Open(data.Directory, "test", vocab, cancellationToken: TestContext.Current.CancellationToken);
        var e = Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(new[] { Model("vsepp", 1, vocab) }, test, fold5: true, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("testall", e.Message);
    }

    /// <summary>The progress messages of evaluating SCAN models (one per seed) on a tiny test split, in the order reported.</summary>
    private static List<string> ProgressMessages(int testImages, int regions, bool fold5, params ulong[] seeds)
    {
        using var data = new TinyPrecomp(testImages: testImages, regions: regions);
        var vocab = Vocabulary.Load(data.VocabPath);
        using var test = PrecompDataset.Open(data.Directory, "test", vocab, cancellationToken: TestContext.Current.CancellationToken);
        var messages = new List<string>();
        Evaluator.Evaluate(seeds.Select(seed => Model("scan", seed, vocab)).ToArray(), test, fold5: fold5,
            progress: new SyncProgress<EvaluationProgress>(p => messages.Add(p.ToString())), cancellationToken: TestContext.Current.CancellationToken);
        return messages;
    }

    [Fact]
    public void Should_ReportEachModelOfAnEnsemble_InOrder()
    {
        var expected = new List<string>();
        foreach (int k in new[] { 1, 2 })
        {
            expected.Add($"model {k}/2: encoding 10 images and 50 captions");
            for (int f = 1; f <= 5; f++) expected.Add($"model {k}/2: scored 1/1 shards of fold {f}/5");
        }
        Assert.Equal(expected, ProgressMessages(testImages: 10, regions: 3, fold5: true, 1, 2));
    }

    [Fact]
    public void Should_CountTheShards_OfASplitLargerThanOneShard()
    {
        // 128-image shards: 2 x 6 blocks for 130 images and 650 captions, reported every 10 blocks and at the end.
        Assert.Equal(new[] { "model 1/1: encoding 130 images and 650 captions", "model 1/1: scored 10/12 shards", "model 1/1: scored 12/12 shards" },
            ProgressMessages(testImages: 130, regions: 2, fold5: false, 1));
    }
}
