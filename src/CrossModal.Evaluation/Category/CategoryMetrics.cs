using System.Text.Json;

namespace CrossModal.Evaluation.Category;

/// <summary>
/// The category-level retrieval result of one model on one labelled test set: image-to-text (image queries rank the
/// texts) and text-to-image metrics, relevant = same class, items ranked by cosine similarity of the common-space
/// codes. Computed once, immutable.
/// </summary>
public sealed record CategoryMetrics(CategoryDirectionMetrics I2T, CategoryDirectionMetrics T2I)
{
    /// <summary>The K of the precisions computed by default.</summary>
    public static IReadOnlyList<int> DefaultKs { get; } = [1, 5, 10, 20, 50, 100];

    /// <summary>(mAP i2t + mAP t2i) / 2, the "average" column of the papers.</summary>
    public double MeanMap => (I2T.Map + T2I.Map) / 2;

    /// <summary>
    /// Metrics of codes in a common space: <paramref name="imageCodes"/> [images x dim] and
    /// <paramref name="textCodes"/> [texts x dim], row major, compared by cosine similarity.
    /// </summary>
    public static CategoryMetrics FromCodes(ReadOnlySpan<float> imageCodes, ReadOnlySpan<float> textCodes, int dim,
        ReadOnlySpan<int> imageLabels, ReadOnlySpan<int> textLabels, IReadOnlyList<int>? ks = null, IReadOnlyList<double>? recallLevels = null)
    {
        if (dim <= 0 || imageCodes.Length != imageLabels.Length * dim || textCodes.Length != textLabels.Length * dim)
            throw new ArgumentException($"Codes of dimension {dim}: {imageCodes.Length} image values for {imageLabels.Length} labels, {textCodes.Length} text values for {textLabels.Length} labels.");
        var sims = CosineSimilarity.Compute(imageCodes, imageLabels.Length, textCodes, textLabels.Length, dim);
        return FromSimilarities(sims, imageLabels, textLabels, ks, recallLevels);
    }

    /// <summary>
    /// Metrics of an images x texts similarity matrix (row major): image queries rank its rows, text queries its
    /// columns.
    /// </summary>
    public static CategoryMetrics FromSimilarities(ReadOnlySpan<float> sims, ReadOnlySpan<int> imageLabels, ReadOnlySpan<int> textLabels,
        IReadOnlyList<int>? ks = null, IReadOnlyList<double>? recallLevels = null)
    {
        int n = imageLabels.Length, m = textLabels.Length;
        CheckShapes(sims.Length, n, m, n, m);
        ks ??= DefaultKs;
        recallLevels ??= PrecisionRecallCurve.ElevenPointLevels;
        var transposed = new float[sims.Length];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) transposed[(long)j * n + i] = sims[i * m + j];
        return new CategoryMetrics(
            CategoryDirectionMetrics.Compute(sims, n, m, imageLabels, textLabels, ks, recallLevels),
            CategoryDirectionMetrics.Compute(transposed, m, n, textLabels, imageLabels, ks, recallLevels));
    }

    /// <summary>{"i2t": {"map", "p_at_k": {"1": ...}, "pr": {"recall": [...], "precision": [...]}, "queries"}, "t2i": {...}, "map_mean"}.</summary>
    public string ToJson(bool indented = true)
    {
        static Dictionary<string, object> D(CategoryDirectionMetrics d) => new()
        {
            ["map"] = d.Map,
            ["p_at_k"] = d.Ks.Select((k, i) => (k, i)).ToDictionary(t => t.k.ToString(System.Globalization.CultureInfo.InvariantCulture), t => d.Precisions[t.i]),
            ["pr"] = new Dictionary<string, object> { ["recall"] = d.Curve.RecallLevels, ["precision"] = d.Curve.Precision },
            ["queries"] = d.Queries,
            ["queries_without_relevant"] = d.QueriesWithoutRelevant,
        };
        var o = new Dictionary<string, object> { ["i2t"] = D(I2T), ["t2i"] = D(T2I), ["map_mean"] = MeanMap };
        return JsonSerializer.Serialize(o, new JsonSerializerOptions { WriteIndented = indented });
    }

    /// <summary>One human-readable line.</summary>
    public override string ToString() =>
        $"mAP i2t {I2T.Map:F4} t2i {T2I.Map:F4} mean {MeanMap:F4} | P@{I2T.Ks[0]} i2t {I2T.Precisions[0]:F4} t2i {T2I.Precisions[0]:F4}";

    internal static void CheckShapes(long scores, int queries, int items, int queryLabels, int itemLabels)
    {
        if (queries < 0 || items <= 0) throw new ArgumentException($"Need at least one item to rank; got {queries} queries x {items} items.");
        if (queryLabels != queries) throw new ArgumentException($"{queryLabels} query labels for {queries} queries.");
        if (itemLabels != items) throw new ArgumentException($"{itemLabels} item labels for {items} items.");
        if (scores != (long)queries * items) throw new ArgumentException($"Score matrix has {scores} entries, expected {queries} x {items}.");
    }
}
