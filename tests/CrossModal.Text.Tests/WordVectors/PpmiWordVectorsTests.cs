using CrossModal.Text.WordVectors;

namespace CrossModal.Text.Tests.WordVectors;

/// <summary>PPMI against hand-worked values, and the word/class vectors' behaviour on a synthetic two-topic corpus.</summary>
public sealed class PpmiWordVectorsTests
{
    private static readonly HashSet<string> NoStop = [];

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.75)]
    public void Should_ComputeHandWorkedPpmi(double alpha)
    {
        // Documents "xx yy" and "xx zz", window 1: pairs (xx,yy), (yy,xx), (xx,zz), (zz,xx), one each. Row and column
        // sums: xx 2, yy 1, zz 1. PMI(w, c) = ln(C(w,c) * sum_c' col(c')^a / (row(w) * col(c)^a)).
        var index = new Dictionary<string, int> { ["xx"] = 0, ["yy"] = 1, ["zz"] = 2 };
        var (ppmi, tokens) = PpmiWordVectors.BuildPpmi([["xx", "yy"], ["xx", "zz"]], index, new PpmiOptions(Window: 1, ContextSmoothing: alpha),
            TestContext.Current.CancellationToken);
        Assert.Equal(4, tokens);
        var dense = new double[9];
        double[] identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
        ppmi.Multiply(identity, 3, dense);
        double z = Math.Pow(2, alpha) + 2;
        Assert.Equal(Math.Log(z / 2), dense[0 * 3 + 1], 12);                    // (xx, yy): row 2, col 1
        Assert.Equal(Math.Log(z / Math.Pow(2, alpha)), dense[1 * 3 + 0], 12);   // (yy, xx): row 1, col 2^a
        Assert.Equal(0, dense[0 * 3 + 0]);                                       // no self pairs
        Assert.Equal(0, dense[1 * 3 + 2]);                                       // yy and zz never co-occur
    }

    [Fact]
    public void Should_PlaceWordsOfOneTopicTogether_AndEmitOneUnitRowPerClass()
    {
        // Two topics with disjoint vocabularies; the class names occur only a few times (below MinCount) but are
        // kept because they are requested.
        var rng = new Tensors.Rng(4);
        string[] sport = ["goal", "match", "team", "score", "league", "player"];
        string[] music = ["album", "song", "band", "guitar", "chart", "singer"];
        var docs = new List<string>();
        for (int d = 0; d < 60; d++)
        {
            var words = d % 2 == 0 ? sport : music;
            docs.Add(string.Join(" ", Enumerable.Range(0, 30).Select(_ => words[rng.NextInt(words.Length)])) + (d < 4 ? (d % 2 == 0 ? " sports" : " music") : ""));
        }
        var (model, vectors) = PpmiWordVectors.TrainForClasses(docs, ["sports", "music"], NoStop, new PpmiOptions(Dimension: 4),
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(model.Similarity("goal", "team") > model.Similarity("goal", "album") + 0.5);
        Assert.True(model.Similarity("sports", "league") > model.Similarity("sports", "song"));
        Assert.Equal(2 * model.Dimension, vectors.Length);
        double norm = 0;
        for (int j = 0; j < model.Dimension; j++) norm += vectors[j] * vectors[j];
        Assert.Equal(1.0, norm, 5);
        var e = Assert.Throws<ArgumentException>(() => model.ClassVectors(["cooking"], "the test corpus"));
        Assert.Contains("the word 'cooking' does not occur in the test corpus", e.Message);
    }
}
