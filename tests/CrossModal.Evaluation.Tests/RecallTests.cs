namespace CrossModal.Evaluation.Tests;

public class RecallTests
{
    [Fact]
    public void Should_RankByBestGroundTruthCaption_ForImageToText()
    {
        // 2 images x 10 captions (captions 0-4 belong to image 0, 5-9 to image 1).
        float[] s =
        {
            // image 0: its captions score 0.1..0.5; caption 7 (image 1's) is best at 0.9, so the best GT (0.5, c4) is at position 1.
            0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.0f, 0.0f, 0.9f, 0.0f, 0.0f,
            // image 1: its best caption (c9 = 0.3) is beaten by c0 = 0.8, c1 = 0.7, c2 = 0.6: position 3.
            0.8f, 0.7f, 0.6f, 0.0f, 0.0f, 0.1f, 0.1f, 0.2f, 0.1f, 0.3f,
        };
        Assert.Equal(new[] { 1, 3 }, Recall.ImageToTextRanks(s, 2, 10));
        var m = Recall.Evaluate(s, 2, 10);
        Assert.Equal(0, m.I2T.R1);
        Assert.Equal(100, m.I2T.R5);
        Assert.Equal(100, m.I2T.R10);
        Assert.Equal(Math.Floor((1 + 3) / 2.0) + 1, m.I2T.Medr); // numpy median of [1, 3] = 2 -> 3
        Assert.Equal(3, m.I2T.Meanr);
    }

    [Fact]
    public void Should_RankImagesPerCaption_ForTextToImage()
    {
        float[] s =
        {
            0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.0f, 0.0f, 0.9f, 0.0f, 0.0f,
            0.8f, 0.7f, 0.6f, 0.0f, 0.0f, 0.1f, 0.1f, 0.2f, 0.1f, 0.3f,
        };
        // Captions 0-2: image 1 scores higher than image 0 -> rank 1; 3, 4: image 0 wins -> 0.
        // Captions 5, 6, 8, 9: image 1 (0.1, 0.1, 0.1, 0.3) beats image 0 (0.0) -> 0; caption 7: image 0 (0.9) wins -> 1.
        Assert.Equal(new[] { 1, 1, 1, 0, 0, 0, 0, 1, 0, 0 }, Recall.TextToImageRanks(s, 2, 10));
        var m = Recall.Evaluate(s, 2, 10);
        Assert.Equal(60, m.T2I.R1, 10);
        Assert.Equal(100, m.T2I.R5);
        Assert.Equal(1, m.T2I.Medr); // median of 0/1 ranks with six zeros = 0 -> 1
        Assert.Equal(1.4, m.T2I.Meanr, 10);
        Assert.Equal(0 + 100 + 100 + 60 + 100 + 100, m.Rsum, 10);
    }

    [Fact]
    public void Should_PutLaterIndexFirst_OnTies()
    {
        // numpy: argsort([...])[::-1] on a stable ascending sort puts later equal elements first.
        float[] scores = { 0.5f, 0.5f, 0.5f };
        Assert.Equal(2, Recall.RankOf(scores, 0));
        Assert.Equal(1, Recall.RankOf(scores, 1));
        Assert.Equal(0, Recall.RankOf(scores, 2));
    }

    [Fact]
    public void Should_AverageFoldMetrics_AndRecomputeRsum()
    {
        // 10 images, 50 captions: fold f has images 2f, 2f+1 and captions 10f..10f+9.
        // Folds 0-2 score perfectly (each caption's own image 1, others 0); folds 3-4 are reversed.
        int n = 10, c = 50;
        var s = new float[n * c];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
            {
                int fold = i / 2;
                if (j / 10 != fold) { s[i * c + j] = 5f; continue; } // outside the fold: not in any block
                bool own = j / 5 == i;
                s[i * c + j] = fold < 3 ? (own ? 1f : 0f) : (own ? 0f : 1f);
            }
        // The protocol scores the five diagonal blocks only: stack them.
        var blocks = Enumerable.Range(0, 5).SelectMany(f => Enumerable.Range(0, 2).SelectMany(i => s.AsSpan((2 * f + i) * c + 10 * f, 10).ToArray())).ToArray();
        var (mean, folds) = Recall.EvaluateFolds(blocks, 5, 2, 10);
        Assert.Equal(600, folds[0].Rsum);
        // Reversed fold: every image's captions all rank after the other image's 5 -> rank 5 (i2t);
        // every caption's image ranks 1 (t2i).
        Assert.Equal(0, folds[4].I2T.R5);
        Assert.Equal(100, folds[4].I2T.R10);
        Assert.Equal(0, folds[4].T2I.R1);
        Assert.Equal(100, folds[4].T2I.R5);
        Assert.Equal((3 * 100 + 2 * 0) / 5.0, mean.I2T.R1, 10);
        Assert.Equal((3 * 1 + 2 * 6) / 5.0, mean.I2T.Medr, 10);
        Assert.Equal(mean.I2T.R1 + mean.I2T.R5 + mean.I2T.R10 + mean.T2I.R1 + mean.T2I.R5 + mean.T2I.R10, mean.Rsum, 10);
        Assert.Equal((3 * 600 + 2 * (0 + 0 + 100 + 0 + 100 + 100)) / 5.0, mean.Rsum, 10);
    }

    [Fact]
    public void Should_RejectFolds_WhenTheBlocksDoNotFit()
    {
        var e = Assert.Throws<ArgumentException>(() => Recall.EvaluateFolds(new float[7 * 35], 5, 1, 7));
        Assert.Contains("are not 5 blocks of 1 x 7", e.Message);
    }

    [Fact]
    public void Should_WriteTheDocumentedJson()
    {
        var m = new RetrievalMetrics(new DirectionMetrics(1, 2, 3, 4, 5), new DirectionMetrics(6, 7, 8, 9, 10));
        var doc = System.Text.Json.JsonDocument.Parse(m.ToJson());
        Assert.Equal(3, doc.RootElement.GetProperty("i2t").GetProperty("r10").GetDouble());
        Assert.Equal(9, doc.RootElement.GetProperty("t2i").GetProperty("medr").GetDouble());
        Assert.Equal(27, doc.RootElement.GetProperty("rsum").GetDouble());
    }
}
