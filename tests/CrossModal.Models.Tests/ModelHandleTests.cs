using CrossModal.Data;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Models.Tests;

/// <summary>The read-only model handle: every source encodes alike, and concurrent callers get what one caller gets.</summary>
public sealed class ModelHandleTests : IDisposable
{
    private readonly TinyPrecomp _data = new(testImages: 12, regions: 3);
    private readonly Vocabulary _vocab;

    public ModelHandleTests() => _vocab = Vocabulary.Load(_data.VocabPath);

    public void Dispose() => _data.Dispose();

    private ModelHandle Scan()
    {
        var model = new ScanModel(new ScanConfig { ImgDim = 8, EmbedSize = 10, WordDim = 6, VocabSize = _vocab.Count }, new Rng(3));
        model.Eval();
        return new ModelHandle(model, _vocab);
    }

    [Fact]
    public void Should_GiveTheSameScores_ToConcurrentCallers()
    {
        var handle = Scan();
        using var test = PrecompDataset.Open(_data.Directory, "test", _vocab, cancellationToken: TestContext.Current.CancellationToken);
        var images = handle.EncodeImages(test, cancellationToken: TestContext.Current.CancellationToken);
        string[] queries = ["a red circle .", "the star is blue", "a green square", "the circle is yellow"];
        float[] Scores(string q)
        {
            var caption = handle.EncodeText([q]);
            var s = new float[images.Count];
            handle.ScoreBlock(images, 0, images.Count, caption, 0, 1, s, 1);
            return s;
        }
        var expected = queries.Select(Scores).ToArray();
        var results = new float[8 * 25][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k => results[k] = Scores(queries[k % queries.Length]));
        for (int k = 0; k < results.Length; k++) Assert.Equal(expected[k % queries.Length], results[k]);
    }

    [Fact]
    public void Should_EncodeFeatureRowsAndTextLikeTheSplit()
    {
        var handle = Scan();
        using var test = PrecompDataset.Open(_data.Directory, "test", _vocab, cancellationToken: TestContext.Current.CancellationToken);
        var fromSplit = handle.EncodeImages(test, batchSize: 5, cancellationToken: TestContext.Current.CancellationToken);
        var rows = new float[test.ImageCount * test.ImageLength];
        for (int i = 0; i < test.ImageCount; i++) test.ImageFeatures(i).CopyTo(rows.AsSpan(i * test.ImageLength));
        var fromRows = handle.EncodeImages(rows, test.ImageCount, test.Regions, test.FeatureDim);
        Assert.Equal(fromSplit.Items(0, fromSplit.Count).ToArray(), fromRows.Items(0, fromRows.Count).ToArray());

        var captions = handle.EncodeCaptions(test, cancellationToken: TestContext.Current.CancellationToken);
        var texts = handle.EncodeText(Enumerable.Range(0, test.CaptionCount).Select(test.CaptionText).ToList());
        Assert.Equal(captions.Count, texts.Count);
        for (int c = 0; c < captions.Count; c++) Assert.Equal(captions.Item(c).ToArray(), texts.Item(c).ToArray());
    }

    [Fact]
    public void Should_RefuseAModelInTrainingModeOrAnotherVocabulary()
    {
        var model = new VseModel(new VseConfig { ImgDim = 8, EmbedSize = 10, WordDim = 6, VocabSize = _vocab.Count }, new Rng(3));
        Assert.Contains("evaluation mode", Assert.Throws<ArgumentException>(() => new ModelHandle(model, _vocab)).Message);
        model.Eval();
        var other = Vocabulary.FromWords([.. Vocabulary.SpecialWords, "red", "blue"]);
        var e = Assert.Throws<InvalidDataException>(() => new ModelHandle(model, other, "m.safetensors"));
        Assert.Equal($"m.safetensors: the model's word embedding has {_vocab.Count} rows, the vocabulary has 6 words.", e.Message);
    }
}
