using CrossModal.Data;
using CrossModal.Distributed.InProcess;
using CrossModal.Models;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Evaluation.Tests;

/// <summary>
/// Evaluation shared by ranks (threads of this process, as mpirun ranks would) gives exactly the one-process result:
/// the same similarity matrix, bit for bit, gathered at rank 0, and the same metrics on every rank, for a single model
/// and an ensemble, the whole split and the 5-fold protocol. 300 test images make several 128-image shards, ranks
/// with whole shards and, for the 60-image folds, ranks with none.
/// </summary>
public class ShardedEvaluatorTests
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
    [InlineData("vsepp", 0, 2, false, 1)]
    [InlineData("vsepp", 0, 3, true, 1)]
    [InlineData("scan", 3, 2, false, 1)]
    [InlineData("scan", 3, 3, false, 2)]
    [InlineData("scan", 3, 2, true, 1)]
    public void Should_GiveExactlyTheOneProcessResult(string kind, int regions, int ranks, bool fold5, int models)
    {
        using var data = new TinyPrecomp(testImages: 300, regions: regions);
        var vocab = Vocabulary.Load(data.VocabPath);
        using var test = PrecompDataset.Open(data.Directory, "test", vocab, cancellationToken: TestContext.Current.CancellationToken);
        var handles = Enumerable.Range(1, models).Select(s => Model(kind, (ulong)s, vocab)).ToArray();
        var one = Evaluator.Evaluate(handles, test, fold5, cancellationToken: TestContext.Current.CancellationToken);
        var results = new EvaluationResult[ranks];
        InProcessWorld.RunAll(ranks, c => results[c.Rank] = Evaluator.Evaluate(handles, test, fold5, ranks: c, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(one.SimilarityShape, results[0].SimilarityShape);
        Assert.Equal(one.Similarities, results[0].Similarities);
        foreach (var r in results)
        {
            Assert.Equal(one.Metrics, r.Metrics);
            Assert.Equal(one.Folds, r.Folds);
        }
        for (int r = 1; r < ranks; r++) Assert.Empty(results[r].Similarities);
    }

    [Fact]
    public void Should_EncodeARangeBitIdentically_ToTheWholeSplit()
    {
        // What the sharded evaluator relies on: encoding batches that start at a multiple of the batch size are
        // batches of the whole split's encoding.
        using var data = new TinyPrecomp(testImages: 300, regions: 3);
        var vocab = Vocabulary.Load(data.VocabPath);
        using var test = PrecompDataset.Open(data.Directory, "test", vocab, cancellationToken: TestContext.Current.CancellationToken);
        var model = Model("scan", 1, vocab);
        var all = model.EncodeCaptions(test, cancellationToken: TestContext.Current.CancellationToken);
        var part = model.EncodeCaptions(test, 256, 700, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(all.Items(256, 700).ToArray(), part.Items(0, 700).ToArray());
        var images = model.EncodeImages(test, cancellationToken: TestContext.Current.CancellationToken);
        var someImages = model.EncodeImages(test, 128, 172, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(images.Items(128, 172).ToArray(), someImages.Items(0, 172).ToArray());
    }
}
