using System.Text.RegularExpressions;
using CrossModal.Evaluation;
using CrossModal.Models.Objectives;

namespace CrossModal.Training.Tests;

/// <summary>training_curve.svg: the loss/validation panel, and the family's curve terms (NAAF's threshold) under it.</summary>
public class TrainingCurveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("curve").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static EpochRecord Record(int epoch, double loss, double rsum, Dictionary<string, double> terms)
    {
        var d = new DirectionMetrics(rsum / 6, rsum / 6, rsum / 6, 1, 1);
        return new EpochRecord(epoch, null, loss, terms, 1e-3f, 1, new ValidationResult(ValidationMeasure.Rsum, rsum, new RetrievalMetrics(d, d)), false);
    }

    private static List<string> Polylines(string svg) =>
        Regex.Matches(svg, "<polyline [^>]*points=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();

    [Fact]
    public void Should_DrawTheCurveTerms_InASecondPanelUnderTheLoss()
    {
        var records = new[]
        {
            Record(1, 3, 10, new() { ["hinge"] = 3, ["thres"] = 0, ["thres_safe"] = 0.05 }),
            Record(2, 2, 20, new() { ["hinge"] = 2, ["thres"] = 0.1, ["thres_safe"] = 0.15 }),
            Record(3, 1, 30, new() { ["hinge"] = 1, ["thres"] = 0.2, ["thres_safe"] = 0.1 }),
        };
        string path = Path.Combine(_dir, "curve.svg");
        TrainingCurve.Write(path, records, ["thres", "thres_safe"]);
        string svg = File.ReadAllText(path);

        // Main panel: x from 70 to 650 (3 epochs), loss 3..1 on y 350..40; second panel y 390..590, one axis 0..0.2.
        var lines = Polylines(svg);
        Assert.Equal(4, lines.Count);
        Assert.Equal("70.0,40.0 360.0,195.0 650.0,350.0", lines[0]);
        Assert.Equal("70.0,590.0 360.0,490.0 650.0,390.0", lines[2]);
        Assert.Equal("70.0,540.0 360.0,440.0 650.0,490.0", lines[3]);
        Assert.Contains("height=\"640\"", svg);
        Assert.Contains(">thres_safe</text>", svg);
    }

    [Fact]
    public void Should_DrawOnlyTheLossPanel_WithoutCurveTermsInTheRecords()
    {
        var records = new[] { Record(1, 3, 10, new() { ["hinge"] = 3 }), Record(2, 2, 20, new() { ["hinge"] = 2 }) };
        string path = Path.Combine(_dir, "curve.svg");
        TrainingCurve.Write(path, records, ["thres"]);
        string svg = File.ReadAllText(path);

        Assert.Equal(2, Polylines(svg).Count);
        Assert.Contains("height=\"400\"", svg);
        Assert.DoesNotContain(">thres</text>", svg);
    }
}
