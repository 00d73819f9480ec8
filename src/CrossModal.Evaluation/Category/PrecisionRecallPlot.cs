using System.Globalization;
using System.Security;
using System.Text;
using CrossModal.Tensors.IO;

namespace CrossModal.Evaluation.Category;

/// <summary>
/// Precision-recall curves as a self-contained SVG (no plotting package exists here): recall on the x axis, precision
/// on the y axis, both 0..1, one polyline with markers per curve and a legend, e.g. "CCA i2t", "SM t2i".
/// </summary>
public static class PrecisionRecallPlot
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    /// <summary>The SVG text of the labelled curves.</summary>
    public static string ToSvg(IReadOnlyList<(string Label, PrecisionRecallCurve Curve)> curves, string title = "Precision-recall")
    {
        var ci = CultureInfo.InvariantCulture;
        const int w = 520, h = 400, left = 55, right = 150, top = 30, bottom = 45;
        double pw = w - left - right, ph = h - top - bottom;
        string X(double r) => (left + r * pw).ToString("F1", ci);
        string Y(double p) => (top + (1 - p) * ph).ToString("F1", ci);
        var sb = new StringBuilder();
        sb.Append(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(ci, $"<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n");
        sb.Append(ci, $"<text x=\"{left}\" y=\"18\" font-size=\"14\">{SecurityElement.Escape(title)}</text>\n");
        for (int t = 0; t <= 10; t += 2)
        {
            double v = t / 10.0;
            sb.Append(ci, $"<line x1=\"{X(0)}\" y1=\"{Y(v)}\" x2=\"{X(1)}\" y2=\"{Y(v)}\" stroke=\"#ddd\"/>\n");
            sb.Append(ci, $"<text x=\"{left - 8}\" y=\"{Y(v)}\" text-anchor=\"end\" dominant-baseline=\"middle\">{v:F1}</text>\n");
            sb.Append(ci, $"<text x=\"{X(v)}\" y=\"{top + ph + 16}\" text-anchor=\"middle\">{v:F1}</text>\n");
        }
        sb.Append(ci, $"<rect x=\"{left}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"black\"/>\n");
        sb.Append(ci, $"<text x=\"{left + pw / 2}\" y=\"{h - 8}\" text-anchor=\"middle\">recall</text>\n");
        sb.Append(ci, $"<text x=\"14\" y=\"{top + ph / 2}\" transform=\"rotate(-90 14 {top + ph / 2})\" text-anchor=\"middle\">precision</text>\n");
        for (int c = 0; c < curves.Count; c++)
        {
            var (label, curve) = curves[c];
            string color = Colors[c % Colors.Length];
            var points = string.Join(" ", curve.RecallLevels.Select((r, i) => $"{X(r)},{Y(curve.Precision[i])}"));
            sb.Append(ci, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
            for (int i = 0; i < curve.RecallLevels.Count; i++)
                sb.Append(ci, $"<circle cx=\"{X(curve.RecallLevels[i])}\" cy=\"{Y(curve.Precision[i])}\" r=\"2.5\" fill=\"{color}\"/>\n");
            double ly = top + 10 + c * 18;
            sb.Append(ci, $"<line x1=\"{left + pw + 12}\" y1=\"{ly}\" x2=\"{left + pw + 32}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
            sb.Append(ci, $"<text x=\"{left + pw + 38}\" y=\"{ly}\" dominant-baseline=\"middle\">{SecurityElement.Escape(label)}</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToSvg"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IReadOnlyList<(string Label, PrecisionRecallCurve Curve)> curves, string title = "Precision-recall") =>
        AtomicFile.WriteAllText(path, ToSvg(curves, title));
}
