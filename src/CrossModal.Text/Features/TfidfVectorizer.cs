using System.Text.Json;
using System.Text.Json.Nodes;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;

namespace CrossModal.Text.Features;

/// <summary>
/// Bag-of-words / TF-IDF text features with a vocabulary learnt from the training texts only (so test texts are
/// vectorised with the training vocabulary and idf, as a deployed model would see them). Terms come from
/// <see cref="TermTokenizer"/> with the dataset's stop-word list. The vocabulary is the <c>maxTerms</c> terms with
/// the highest total count over the training texts (what scikit-learn's <c>max_features</c> keeps; the ACMR code
/// feeds 5,000 such terms), ties by ordinal term order; column j is the j-th most frequent term.
/// TF-IDF weight: count(t, d) * idf(t), idf(t) = ln((1 + N) / (1 + df(t))) + 1 with N training documents and df the
/// number of training documents containing t (scikit-learn's smooth idf), then each row is scaled to unit L2 norm (a
/// document without a vocabulary term stays all zero). Saved as JSON, written atomically.
/// </summary>
public sealed class TfidfVectorizer
{
    private const string Format = "crossmodal-tfidf";
    private readonly Dictionary<string, int> _index;

    private TfidfVectorizer(string[] terms, double[] idf, int[] documentFrequency, int documents, string[] stopWords, TermWeighting weighting)
    {
        Terms = terms;
        Idf = idf;
        DocumentFrequency = documentFrequency;
        Documents = documents;
        StopWords = stopWords;
        Weighting = weighting;
        _index = new Dictionary<string, int>(terms.Length, StringComparer.Ordinal);
        for (int i = 0; i < terms.Length; i++) _index[terms[i]] = i;
        _stopSet = stopWords.ToHashSet(StringComparer.Ordinal);
    }

    private readonly HashSet<string> _stopSet;

    /// <summary>The vocabulary, one term per feature column.</summary>
    public IReadOnlyList<string> Terms { get; }

    /// <summary>idf of each term.</summary>
    public IReadOnlyList<double> Idf { get; }

    /// <summary>Training documents containing each term.</summary>
    public IReadOnlyList<int> DocumentFrequency { get; }

    /// <summary>Number of training documents.</summary>
    public int Documents { get; }

    /// <summary>The stop words applied (sorted).</summary>
    public IReadOnlyList<string> StopWords { get; }

    /// <summary>TF-IDF or raw counts.</summary>
    public TermWeighting Weighting { get; }

    /// <summary>Feature width (number of terms).</summary>
    public int Dimension => Terms.Count;

    /// <summary>Learns the vocabulary and idf from <paramref name="trainingTexts"/>.</summary>
    public static TfidfVectorizer Fit(IReadOnlyList<string> trainingTexts, IReadOnlySet<string> stopWords, int maxTerms = 5000,
        TermWeighting weighting = TermWeighting.TfIdf)
    {
        if (trainingTexts.Count == 0) throw new ArgumentException("No training texts to learn a vocabulary from.");
        if (maxTerms < 1) throw new ArgumentOutOfRangeException(nameof(maxTerms), maxTerms, "The vocabulary needs at least one term.");
        var count = new Dictionary<string, long>(StringComparer.Ordinal);
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in trainingTexts)
        {
            seen.Clear();
            TermTokenizer.Tokenize(text, stopWords, t =>
            {
                count[t] = count.GetValueOrDefault(t) + 1;
                if (seen.Add(t)) df[t] = df.GetValueOrDefault(t) + 1;
            });
        }
        if (count.Count == 0) throw new ArgumentException("The training texts contain no term (after stop words); cannot build a vocabulary.");
        var terms = count.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(maxTerms).Select(kv => kv.Key).ToArray();
        int n = trainingTexts.Count;
        var dfs = terms.Select(t => df[t]).ToArray();
        var idf = dfs.Select(d => Math.Log((1.0 + n) / (1.0 + d)) + 1).ToArray();
        return new TfidfVectorizer(terms, idf, dfs, n, stopWords.Order(StringComparer.Ordinal).ToArray(), weighting);
    }

    /// <summary>Writes the features of <paramref name="text"/> into <paramref name="destination"/> (length <see cref="Dimension"/>).</summary>
    public void Transform(string text, Span<float> destination)
    {
        if (destination.Length != Dimension) throw new ArgumentException($"Destination holds {destination.Length} values; the vocabulary has {Dimension} terms.");
        var counts = new double[Dimension];
        TermTokenizer.Tokenize(text, _stopSet, t =>
        {
            if (_index.TryGetValue(t, out int j)) counts[j]++;
        });
        if (Weighting == TermWeighting.Count)
        {
            for (int j = 0; j < counts.Length; j++) destination[j] = (float)counts[j];
            return;
        }
        double norm = 0;
        for (int j = 0; j < counts.Length; j++)
        {
            counts[j] *= Idf[j];
            norm += counts[j] * counts[j];
        }
        double inv = norm > 0 ? 1 / Math.Sqrt(norm) : 0;
        for (int j = 0; j < counts.Length; j++) destination[j] = (float)(counts[j] * inv);
    }

    /// <summary>Features of every text: a [texts x Dimension] tensor.</summary>
    public Tensor Transform(IReadOnlyList<string> texts)
    {
        var data = new float[(long)texts.Count * Dimension];
        for (int i = 0; i < texts.Count; i++) Transform(texts[i], data.AsSpan(i * Dimension, Dimension));
        return Tensor.FromArray(data, texts.Count, Dimension);
    }

    /// <summary>Saves the vocabulary, idf and settings as JSON (atomically).</summary>
    public void Save(string path)
    {
        var o = new JsonObject
        {
            ["format"] = Format,
            ["version"] = 1,
            ["tokenizer"] = TermTokenizer.RuleName,
            ["weighting"] = Weighting == TermWeighting.TfIdf ? "tfidf" : "count",
            ["documents"] = Documents,
            ["terms"] = new JsonArray(Terms.Select(t => (JsonNode)t!).ToArray()),
            ["document_frequency"] = new JsonArray(DocumentFrequency.Select(d => (JsonNode)d!).ToArray()),
            ["stop_words"] = new JsonArray(StopWords.Select(t => (JsonNode)t!).ToArray()),
        };
        AtomicFile.WriteAllText(path, o.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }

    /// <summary>Loads a vocabulary written by <see cref="Save"/>; anything else is one error naming the file.</summary>
    public static TfidfVectorizer Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: TF-IDF vocabulary not found.", path);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a TF-IDF vocabulary (invalid JSON: {e.Message}).");
        }
        if (root is not JsonObject o || (string?)o["format"] != Format)
            throw new InvalidDataException($"{path}: not a TF-IDF vocabulary (expected \"format\": \"{Format}\").");
        if ((string?)o["tokenizer"] != TermTokenizer.RuleName)
            throw new InvalidDataException($"{path}: made with tokenizer '{(string?)o["tokenizer"]}', this build tokenizes with '{TermTokenizer.RuleName}'.");
        try
        {
            var terms = o["terms"]!.AsArray().Select(t => (string)t!).ToArray();
            var dfs = o["document_frequency"]!.AsArray().Select(t => (int)t!).ToArray();
            var stop = o["stop_words"]!.AsArray().Select(t => (string)t!).ToArray();
            int n = (int)o["documents"]!;
            var weighting = (string?)o["weighting"] switch
            {
                "tfidf" => TermWeighting.TfIdf,
                "count" => TermWeighting.Count,
                var w => throw new InvalidDataException($"{path}: unknown weighting '{w}' (expected tfidf or count)."),
            };
            if (terms.Length == 0 || dfs.Length != terms.Length || n < 1 || dfs.Any(d => d < 1 || d > n))
                throw new InvalidDataException($"{path}: {terms.Length} terms with {dfs.Length} document frequencies over {n} documents; expected one frequency in 1..documents per term.");
            var idf = dfs.Select(d => Math.Log((1.0 + n) / (1.0 + d)) + 1).ToArray();
            return new TfidfVectorizer(terms, idf, dfs, n, stop, weighting);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new InvalidDataException($"{path}: a TF-IDF vocabulary needs 'terms' (strings), 'document_frequency' (integers), 'stop_words' and 'documents'.");
        }
    }
}
