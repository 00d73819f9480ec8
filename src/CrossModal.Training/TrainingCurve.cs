using System.Globalization;
using System.Text;
using CrossModal.Models;
using CrossModal.Tensors.IO;

namespace CrossModal.Training;

/// <summary>
/// Writes training_curve.svg: mean training loss per batch (left axis) and validation rsum (right axis) per
/// epoch, as plain SVG (no native dependencies); below it, when the family names curve terms
/// (<see cref="ModelFamily.CurveTerms"/>, e.g. NAAF's threshold), a second panel with their per-epoch values.
/// </summary>
public static class TrainingCurve
{
    private static readonly string[] TermColours = ["#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    /// <summary>
    /// Writes the plot of the epoch-end records of <paramref name="records"/> to <paramref name="path"/> (atomically),
    /// with <paramref name="panelTerms"/> (terms of the records) in a second panel when any record has one of them.
    /// </summary>
    public static void Write(string path, IReadOnlyList<EpochRecord> records, IReadOnlyList<string>? panelTerms = null)
    {
        var epochs = records.Where(r => r.Iteration is null).ToList();
        string measure = epochs.Count > 0 ? ConfigJson.EnumName(epochs[^1].Validation.Measure) : "rsum";
        var terms = (panelTerms ?? []).Where(t => epochs.Any(e => e.Terms.ContainsKey(t))).ToList();
        const int w = 720, left = 70, right = 70, top = 40, bottom = 50, ph = 310, panel = 200;
        // The terms' panel sits under the main one, below its epoch labels (panelTop), with its own epoch labels.
        int panelTop = top + ph + 40, h = (terms.Count > 0 ? panelTop + panel : top + ph) + bottom;
        int pw = w - left - right;
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.Append(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(ci, $"<text x=\"{w / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Training loss and validation {measure}</text>\n");
        sb.Append(ci, $"<rect x=\"{left}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#888\"/>\n");
        if (epochs.Count > 0)
        {
            int n = epochs.Count;
            double x(int i) => left + (n == 1 ? pw / 2.0 : pw * i / (double)(n - 1));
            var (lossMin, lossMax) = Range(epochs.Select(e => e.Loss));
            var (rMin, rMax) = Range(epochs.Select(e => e.Validation.Score));
            double yl(double v) => top + ph - (v - lossMin) / (lossMax - lossMin) * ph;
            double yr(double v) => top + ph - (v - rMin) / (rMax - rMin) * ph;
            Polyline(sb, epochs.Select((e, i) => (x(i), yl(e.Loss))), "#1f77b4");
            Polyline(sb, epochs.Select((e, i) => (x(i), yr(e.Validation.Score))), "#d62728");
            for (int t = 0; t <= 4; t++)
            {
                double fy = top + ph - ph * t / 4.0;
                sb.Append(ci, $"<text x=\"{left - 6}\" y=\"{fy + 4:F1}\" text-anchor=\"end\" fill=\"#1f77b4\">{lossMin + (lossMax - lossMin) * t / 4:G4}</text>\n");
                sb.Append(ci, $"<text x=\"{w - right + 6}\" y=\"{fy + 4:F1}\" fill=\"#d62728\">{rMin + (rMax - rMin) * t / 4:F1}</text>\n");
            }
            int[] labelRows = terms.Count > 0 ? [top + ph, panelTop + panel] : [top + ph];
            for (int i = 0; i < n; i += Math.Max(1, n / 10))
                foreach (int below in labelRows)
                    sb.Append(ci, $"<text x=\"{x(i):F1}\" y=\"{below + 18}\" text-anchor=\"middle\">{epochs[i].Epoch}</text>\n");
            if (terms.Count > 0) TermPanel(sb, epochs, terms, x, left, panelTop, pw, panel);
        }
        sb.Append(ci, $"<text x=\"{w / 2}\" y=\"{h - 12}\" text-anchor=\"middle\">epoch</text>\n");
        if (terms.Count > 0)
            for (int t = 0; t < terms.Count; t++)
                sb.Append(ci, $"<text x=\"{left + 10 + 110 * t}\" y=\"{panelTop + 16}\" fill=\"{TermColours[t % TermColours.Length]}\">{terms[t]}</text>\n");
        sb.Append(ci, $"<text x=\"16\" y=\"{top + ph / 2}\" fill=\"#1f77b4\" transform=\"rotate(-90 16 {top + ph / 2})\" text-anchor=\"middle\">training loss (mean per batch)</text>\n");
        sb.Append(ci, $"<text x=\"{w - 14}\" y=\"{top + ph / 2}\" fill=\"#d62728\" transform=\"rotate(90 {w - 14} {top + ph / 2})\" text-anchor=\"middle\">validation {measure}</text>\n");
        sb.Append("</svg>\n");
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    // The second panel: each term's per-epoch mean (terms absent from a record are skipped), on one left axis.
    private static void TermPanel(StringBuilder sb, List<EpochRecord> epochs, List<string> terms, Func<int, double> x, int left, int top, int pw, int ph)
    {
        var ci = CultureInfo.InvariantCulture;
        var (lo, hi) = Range(terms.SelectMany(t => epochs.Where(e => e.Terms.ContainsKey(t)).Select(e => e.Terms[t])));
        double y(double v) => top + ph - (v - lo) / (hi - lo) * ph;
        sb.Append(ci, $"<rect x=\"{left}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#888\"/>\n");
        for (int t = 0; t < terms.Count; t++)
        {
            var points = epochs.Select((e, i) => (i, e)).Where(p => p.e.Terms.ContainsKey(terms[t])).Select(p => (x(p.i), y(p.e.Terms[terms[t]])));
            Polyline(sb, points, TermColours[t % TermColours.Length]);
        }
        for (int t = 0; t <= 4; t++)
            sb.Append(ci, $"<text x=\"{left - 6}\" y=\"{top + ph - ph * t / 4.0 + 4:F1}\" text-anchor=\"end\">{lo + (hi - lo) * t / 4:G4}</text>\n");
        sb.Append(ci, $"<text x=\"16\" y=\"{top + ph / 2}\" transform=\"rotate(-90 16 {top + ph / 2})\" text-anchor=\"middle\">epoch mean</text>\n");
    }

    private static (double Min, double Max) Range(IEnumerable<double> values)
    {
        var list = values.Where(double.IsFinite).ToList();
        if (list.Count == 0) return (0, 1);
        double lo = list.Min(), hi = list.Max();
        if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
        return (lo, hi);
    }

    private static void Polyline(StringBuilder sb, IEnumerable<(double X, double Y)> points, string colour)
    {
        var ci = CultureInfo.InvariantCulture;
        var pts = points.Where(p => double.IsFinite(p.Y)).ToList();
        sb.Append(ci, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(' ', pts.Select(p => string.Format(ci, "{0:F1},{1:F1}", p.X, p.Y)))}\"/>\n");
        foreach (var p in pts) sb.Append(ci, $"<circle cx=\"{p.X:F1}\" cy=\"{p.Y:F1}\" r=\"3\" fill=\"{colour}\"/>\n");
    }
}
