using CrossModal.Models.Attention;
using CrossModal.Models.Imram;
using CrossModal.Models.Naaf;
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

    [Fact]
    public void Should_ShowNaafsPositiveAttention_AboveTheThreshold()
    {
        var model = new NaafModel(new NaafConfig { ImgDim = Dim, EmbedSize = 10, WordDim = 6, VocabSize = Vocab.Count, LambdaSoftmax = 4 }, new Rng(14));
        model.Eval();
        var handle = new ModelHandle(model, Vocab);
        const string text = "a red circle is blue";
        var features = Features(10);
        var tokens = Vocab.Encode(text);
        var image = handle.EncodeImages(features, 1, Regions, Dim);
        var words = handle.EncodeText([text]);
        int t = tokens.Length, d = 10;
        var s = new float[t * Regions];
        for (int w = 0; w < t; w++)
            for (int r = 0; r < Regions; r++)
                for (int k = 0; k < d; k++) s[w * Regions + r] += words.Item(0)[w * d + k] * image.Item(0)[r * d + k];
        // A threshold inside the similarities' range (it must lie in [0, 1]), so that some words have regions above it and some none.
        // Midway between two similarities, so that no similarity sits at the threshold within rounding.
        var sorted = s.Order().ToArray();
        float theta = Math.Clamp((sorted[s.Length * 3 / 4] + sorted[s.Length * 3 / 4 + 1]) / 2, 0.01f, 0.99f);
        Assert.True(s.Any(v => v > theta) && s.Any(v => v <= theta), $"the similarities {string.Join(", ", s)} do not straddle {theta}");
        model.Threshold.ThresSafe = theta;

        var e = handle.ExplainEncoded(image.Item(0), Regions, tokens)!;
        Assert.Equal(ExplanationKind.WordRegionAttention, e.Kind);
        Assert.Equal(Score(handle, features, Regions, text), e.Score, 1e-5f);
        for (int w = 0; w < t; w++)
        {
            var row = e.Weights.AsSpan(w * Regions, Regions).ToArray();
            var above = Enumerable.Range(0, Regions).Where(r => s[w * Regions + r] > theta).ToArray();
            // Zero at and below the threshold; above it the weights sum to 1 in the ratios exp(λ (s1 - s2)).
            for (int r = 0; r < Regions; r++)
                if (!above.Contains(r)) Assert.Equal(0f, row[r]);
            Assert.Equal(above.Length > 0 ? 1f : 0f, row.Sum(), 1e-5f);
            for (int i = 1; i < above.Length; i++)
                Assert.Equal(MathF.Exp(4 * (s[w * Regions + above[i]] - s[w * Regions + above[0]])), row[above[i]] / row[above[0]], 1e-3f);
        }
        // The same explanation from the raw features.
        Assert.Equal(e.Weights, handle.Explain(features, Regions, Dim, tokens)!.Weights);
    }

    public static TheoryData<ImramMode, int> ImramSettings()
    {
        var data = new TheoryData<ImramMode, int>();
        foreach (var mode in Enum.GetValues<ImramMode>())
            foreach (int steps in new[] { 1, 3 })
                data.Add(mode, steps);
        return data;
    }

    private static ModelHandle Imram(ImramMode mode, int steps)
    {
        var model = new ImramModel(new ImramConfig { ImgDim = Dim, EmbedSize = 10, WordDim = 6, VocabSize = Vocab.Count, ModelMode = mode, IterationStep = steps, LambdaSoftmax = 4 }, new Rng(13));
        model.Eval();
        return new ModelHandle(model, Vocab);
    }

    [Theory]
    [MemberData(nameof(ImramSettings))]
    public void Should_ReproduceTheImramScore_FromTheExplainedAttention_OfTheEncodedImage(ImramMode mode, int steps)
    {
        var handle = Imram(mode, steps);
        const string text = "a red circle is blue";
        var features = Features(9);
        var tokens = Vocab.Encode(text);
        var image = handle.EncodeImages(features, 1, Regions, Dim);
        var e = handle.ExplainEncoded(image.Item(0), Regions, tokens)!;
        Assert.Equal(ExplanationKind.WordRegionAttention, e.Kind);
        Assert.Equal(Score(handle, features, Regions, text), e.Score, 1e-5f);
        // Words over regions (text_IMRAM, full_IMRAM): rows sum to 1; regions over words (image_IMRAM): columns do.
        if (mode != ImramMode.ImageImram)
            for (int w = 0; w < e.Words; w++) Assert.Equal(1f, e.Weights.AsSpan(w * Regions, Regions).ToArray().Sum(), 1e-5f);
        else
            for (int r = 0; r < Regions; r++) Assert.Equal(1f, Enumerable.Range(0, e.Words).Sum(w => e.Weights[w * Regions + r]), 1e-5f);
    }

    [Theory]
    [InlineData(ImramMode.TextImram, AttentionDirection.TextToImage)]
    [InlineData(ImramMode.ImageImram, AttentionDirection.ImageToText)]
    public void Should_GiveScansAttention_ForOneImramStep(ImramMode mode, AttentionDirection direction)
    {
        // One IMRAM step is SCAN's attention (same similarity, clipped_l2norm, softmax of λ); SCAN's explainer writes it out independently.
        var handle = Imram(mode, 1);
        var tokens = Vocab.Encode("the blue star is red");
        var image = handle.EncodeImages(Features(10), 1, Regions, Dim);
        var words = handle.EncodeCaptions([tokens]);
        var e = handle.ExplainEncoded(image.Item(0), Regions, tokens)!;
        var scan = CrossAttentionOptions.From(new ScanConfig { CrossAttn = direction, LambdaSoftmax = 4, RawFeatureNorm = RawFeatureNorm.ClippedL2Norm });
        var expected = ScanExplainer.Explain(image.Item(0), Regions, words.Item(0), tokens.Length, 10, scan);
        Assert.Equal(expected.Weights.Length, e.Weights.Length);
        for (int i = 0; i < e.Weights.Length; i++) Assert.Equal(expected.Weights[i], e.Weights[i], 1e-5f);
    }
}
