using CrossModal.Models.Attention;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors;
using CrossModal.Text;

namespace CrossModal.Models.Tests;

/// <summary>
/// Explanations of single scores: SCAN's attention, written out step by step, must reproduce the score of the fused
/// evaluation kernel (which the PyTorch fixtures pin down) in every direction, normalisation and aggregation; VSE++'s
/// region contributions must add up to its cosine.
/// </summary>
public sealed class ScoreExplanationTests
{
    private static readonly Vocabulary Vocab = Vocabulary.FromWords([.. Vocabulary.SpecialWords, "a", "red", "circle", "is", "blue", "star"]);
    private const int Regions = 5, Dim = 8;

    private static float[] Features(ulong seed, int regions = Regions)
    {
        var f = new float[Math.Max(1, regions) * Dim];
        new Rng(seed).Uniform(f, -1f, 1f);
        return f;
    }

    private static float Score(ModelHandle handle, float[] features, int regions, string text)
    {
        var image = handle.EncodeImages(features, 1, regions, Dim);
        var caption = handle.EncodeText([text]);
        var s = new float[1];
        handle.ScoreBlock(image, 0, 1, caption, 0, 1, s, 1);
        return s[0];
    }

    public static TheoryData<AttentionDirection, RawFeatureNorm, Aggregation> ScanSettings()
    {
        var data = new TheoryData<AttentionDirection, RawFeatureNorm, Aggregation>();
        foreach (var d in Enum.GetValues<AttentionDirection>())
            foreach (var n in Enum.GetValues<RawFeatureNorm>())
                foreach (var a in Enum.GetValues<Aggregation>())
                    data.Add(d, n, a);
        return data;
    }

    [Theory]
    [MemberData(nameof(ScanSettings))]
    public void Should_ReproduceTheScanScore_FromTheExplainedAttention(AttentionDirection direction, RawFeatureNorm norm, Aggregation aggregation)
    {
        var config = new ScanConfig { ImgDim = Dim, EmbedSize = 10, WordDim = 6, VocabSize = Vocab.Count, CrossAttn = direction, RawFeatureNorm = norm, AggFunc = aggregation, LambdaSoftmax = 4, LambdaLse = 5 };
        var model = new ScanModel(config, new Rng(11));
        model.Eval();
        var handle = new ModelHandle(model, Vocab);
        const string text = "a red circle is blue";
        var features = Features(5);
        var tokens = Vocab.Encode(text);
        var e = handle.Explain(features, Regions, Dim, tokens)!;

        Assert.Equal(ExplanationKind.WordRegionAttention, e.Kind);
        Assert.Equal(tokens.Length, e.Words);
        Assert.Equal(Regions, e.Regions);
        Assert.Equal(Score(handle, features, Regions, text), e.Score, 1e-5f);
        Assert.Equal(direction == AttentionDirection.TextToImage ? tokens.Length : Regions, e.Relevance!.Length);
        // t2i: each word's weights over the regions sum to 1; i2t: each region's weights over the words do.
        if (direction == AttentionDirection.TextToImage)
            for (int w = 0; w < e.Words; w++) Assert.Equal(1f, e.Weights.AsSpan(w * Regions, Regions).ToArray().Sum(), 1e-5f);
        else
            for (int r = 0; r < Regions; r++) Assert.Equal(1f, Enumerable.Range(0, e.Words).Sum(w => e.Weights[w * Regions + r]), 1e-5f);
    }

    [Fact]
    public void Should_SplitTheVseScoreIntoRegionContributions()
    {
        var model = new VseModel(new VseConfig { ImgDim = Dim, EmbedSize = 10, WordDim = 6, VocabSize = Vocab.Count }, new Rng(12));
        model.Eval();
        var handle = new ModelHandle(model, Vocab);
        const string text = "the blue star";
        var features = Features(6);
        var e = handle.Explain(features, Regions, Dim, Vocab.Encode(text))!;
        Assert.Equal(ExplanationKind.RegionContributions, e.Kind);
        Assert.Equal(Regions, e.Weights.Length);
        float score = Score(handle, features, Regions, text);
        Assert.Equal(score, e.Score, 1e-5f);
        Assert.Equal(score, e.Weights.Sum(), 1e-5f);

        // Moving a region moves its contribution with it.
        var swapped = (float[])features.Clone();
        features.AsSpan(0, Dim).CopyTo(swapped.AsSpan(3 * Dim));
        features.AsSpan(3 * Dim, Dim).CopyTo(swapped);
        var e2 = handle.Explain(swapped, Regions, Dim, Vocab.Encode(text))!;
        Assert.Equal(e.Weights[0], e2.Weights[3], 1e-6f);
        Assert.Equal(e.Weights[3], e2.Weights[0], 1e-6f);

        // One vector per image: a single term holding the whole score.
        var global = Features(7, regions: 0);
        var g = handle.Explain(global, 0, Dim, Vocab.Encode(text))!;
        Assert.Equal(1, g.Regions);
        Assert.Equal(Score(handle, global, 0, text), g.Weights[0], 1e-5f);
    }
}
