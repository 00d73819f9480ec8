using CrossModal.Evaluation.Category;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Evaluation.Tests.Category;

/// <summary>mAP, P@K and the PR curve against hand-worked cases (with ties) and the numpy reference fixtures.</summary>
public sealed class CategoryMetricsTests
{
    // One query of class 0 over five items; three items tie at 0.5. With ties by ascending index the relevance is
    // [1, 0, 1, 1, 0]: AP = (1/1 + 2/3 + 3/4) / 3. (Ties broken the other way would give [1, 1, 1, 0, 0], AP = 1.)
    private static readonly float[] TiedScores = [0.9f, 0.5f, 0.5f, 0.5f, 0.1f];
    private static readonly int[] TiedLabels = [0, 1, 0, 0, 1];

    [Fact]
    public void Should_BreakTiesByAscendingItemIndex()
    {
        Assert.Equal([0, 1, 2, 3, 4], CategoryRanking.Order(TiedScores));
        Assert.Equal([3, 0, 1, 2], CategoryRanking.Order([0.2f, 0.2f, 0.2f, 0.7f]));
        // -0 equals +0; NaN ranks last.
        Assert.Equal([1, 0, 3, 2], CategoryRanking.Order([-0f, 0.5f, float.NaN, 0f]));
        Assert.Equal([0, 2, 1], CategoryRanking.Order([float.PositiveInfinity, float.NegativeInfinity, -1e30f]));
    }

    [Fact]
    public void Should_ComputeTheHandWorkedAveragePrecision_WithTies()
    {
        var ap = MeanAveragePrecision.Compute(TiedScores, 1, 5, [0], TiedLabels);
        Assert.Equal((1.0 + 2.0 / 3 + 3.0 / 4) / 3, ap[0], 12);
    }

    [Fact]
    public void Should_GiveApZero_WhenTheQueryClassIsAbsentFromTheGallery()
    {
        var ap = MeanAveragePrecision.Compute(TiedScores, 1, 5, [7], TiedLabels);
        Assert.Equal(0.0, ap[0]);
    }

    [Fact]
    public void Should_ComputeHandWorkedPrecisionAtK_ClippingKToTheGallery()
    {
        var m = CategoryDirectionMetrics.Compute(TiedScores, 1, 5, [0], TiedLabels, [1, 2, 4, 10], PrecisionRecallCurve.ElevenPointLevels);
        Assert.Equal(1.0, m.PrecisionAt(1));
        Assert.Equal(0.5, m.PrecisionAt(2));
        Assert.Equal(0.75, m.PrecisionAt(4));
        Assert.Equal(0.6, m.PrecisionAt(10), 12);
    }

    [Fact]
    public void Should_ComputeTheHandWorkedElevenPointCurve()
    {
        // Recall by rank 1/3, 1/3, 2/3, 1, 1; precision 1, 1/2, 2/3, 3/4, 3/5. Interpolated: levels up to 0.3 are
        // reached at rank 1 (best precision from there on: 1); 0.4 .. 1.0 at ranks 3 and 4 (best from there: 3/4).
        var m = CategoryDirectionMetrics.Compute(TiedScores, 1, 5, [0], TiedLabels, [1], PrecisionRecallCurve.ElevenPointLevels);
        double[] expected = [1, 1, 1, 1, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75];
        for (int l = 0; l < 11; l++) Assert.Equal(expected[l], m.Curve.Precision[l], 12);
    }

    [Fact]
    public void Should_RankColumnsForTextQueries()
    {
        // 2 images x 3 texts. Text 0 (class 1) ranks image 1 (class 1) first: AP 1; text 1 (class 0) ranks image 1
        // first, image 0 second: AP 1/2; text 2 (class 0) ties: image 0 first by index: AP 1.
        float[] sims = [0.1f, 0.2f, 0.3f,
                        0.9f, 0.8f, 0.3f];
        var metrics = CategoryMetrics.FromSimilarities(sims, [0, 1], [1, 0, 0], [1]);
        Assert.Equal((1 + 0.5 + 1) / 3, metrics.T2I.Map, 12);
        // Image 0 (class 0) ranks texts 2, 1, 0: AP 1; image 1 (class 1) ranks 0 first: AP 1.
        Assert.Equal(1.0, metrics.I2T.Map, 12);
        Assert.Equal((metrics.I2T.Map + metrics.T2I.Map) / 2, metrics.MeanMap);
    }

    [Theory]
    [InlineData("ties")]
    [InlineData("continuous")]
    public void Should_MatchTheNumpyReference(string name)
    {
        var sims = Npy.ReadFloat32(TestData.Fixture("category", $"metrics_{name}_sims.npy"));
        var queryLabels = ReadLabels("metrics_query_labels.npy");
        var itemLabels = ReadLabels("metrics_item_labels.npy");
        var ks = ReadLabels("metrics_ks.npy");
        var ap = Npy.ReadFloat64(TestData.Fixture("category", $"metrics_{name}_ap.npy")).Values;
        var pk = Npy.ReadFloat64(TestData.Fixture("category", $"metrics_{name}_pk.npy")).Values;
        var pr = Npy.ReadFloat64(TestData.Fixture("category", $"metrics_{name}_pr.npy")).Values;
        int n = sims.Dim(0), m = sims.Dim(1);

        var ours = MeanAveragePrecision.Compute(sims.Data, n, m, queryLabels, itemLabels);
        for (int q = 0; q < n; q++) Assert.Equal(ap[q], ours[q], 12);
        var d = CategoryDirectionMetrics.Compute(sims.Data, n, m, queryLabels, itemLabels, ks, PrecisionRecallCurve.ElevenPointLevels);
        Assert.Equal(ap.Average(), d.Map, 12);
        for (int k = 0; k < ks.Length; k++) Assert.Equal(pk[k], d.Precisions[k], 12);
        for (int l = 0; l < 11; l++) Assert.Equal(pr[l], d.Curve.Precision[l], 12);
        Assert.Equal(ap.Count(a => a == 0), d.QueriesWithoutRelevant);
    }

    [Fact]
    public void Should_RankByCosine_NotByDotProduct()
    {
        // Image 0 is (1, 0). Text 0 = (10, 10) has the larger dot product, text 1 = (1, 0.1) the larger cosine.
        var m = CategoryMetrics.FromCodes([1f, 0f], [10f, 10f, 1f, 0.1f], 2, [0], [1, 0], [1]);
        Assert.Equal(1.0, m.I2T.PrecisionAt(1));
        var sims = CosineSimilarity.Compute([1f, 0f, 0f, 0f], 2, [3f, 4f], 1, 2);
        Assert.Equal(0.6f, sims[0], 6);
        Assert.Equal(0f, sims[1]);
    }

    [Fact]
    public void Should_WriteJson_WithBothDirectionsAndTheMean()
    {
        var metrics = CategoryMetrics.FromSimilarities(TiedScores, [0], TiedLabels, [1, 5]);
        using var doc = System.Text.Json.JsonDocument.Parse(metrics.ToJson());
        Assert.Equal(metrics.I2T.Map, doc.RootElement.GetProperty("i2t").GetProperty("map").GetDouble(), 12);
        Assert.Equal(0.6, doc.RootElement.GetProperty("i2t").GetProperty("p_at_k").GetProperty("5").GetDouble(), 12);
        Assert.Equal(11, doc.RootElement.GetProperty("t2i").GetProperty("pr").GetProperty("precision").GetArrayLength());
        Assert.Equal(metrics.MeanMap, doc.RootElement.GetProperty("map_mean").GetDouble(), 12);
    }

    [Fact]
    public void Should_RejectMismatchedShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => CategoryMetrics.FromSimilarities(new float[6], [0, 1], [0, 1]));
        Assert.Contains("6 entries, expected 2 x 2", e.Message);
    }

    [Fact]
    public void Should_PlotEachCurveAsAPolylineThroughItsPoints()
    {
        var m = CategoryDirectionMetrics.Compute(TiedScores, 1, 5, [0], TiedLabels, [1], PrecisionRecallCurve.ElevenPointLevels);
        var svg = PrecisionRecallPlot.ToSvg([("CCA <i2t>", m.Curve), ("SM t2i", m.Curve)]);
        var doc = System.Xml.Linq.XDocument.Parse(svg);
        System.Xml.Linq.XNamespace ns = "http://www.w3.org/2000/svg";
        var lines = doc.Descendants(ns + "polyline").ToArray();
        Assert.Equal(2, lines.Length);
        var points = lines[0].Attribute("points")!.Value.Split(' ');
        Assert.Equal(11, points.Length);
        // Plot area x 55..370 (520 - 55 - 150 wide), y 30..355: recall 0 / precision 1 is the top-left corner, recall 1 / precision 0.75
        // sits a quarter of the height down.
        Assert.Equal("55.0,30.0", points[0]);
        Assert.Equal("370.0,111.2", points[10]); // 30 + 0.25 * 325 = 111.25
        Assert.Contains(doc.Descendants(ns + "text"), t => t.Value == "CCA <i2t>");
    }

    private static int[] ReadLabels(string file) =>
        Npy.ReadInt64(TestData.Fixture("category", file)).Values.Select(v => (int)v).ToArray();
}
