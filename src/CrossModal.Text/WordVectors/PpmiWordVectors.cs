using CrossModal.Tensors.Linalg;
using CrossModal.Text.Features;

namespace CrossModal.Text.WordVectors;

/// <summary>
/// Word vectors from a text corpus by positive pointwise mutual information and truncated SVD (the core of
/// <c>crossmodal classvec</c>): count co-occurrences within a symmetric window, weight them by
/// PPMI(w, c) = max(0, ln(P(w, c) / (P(w) P_alpha(c)))), factorise the sparse PPMI matrix with
/// <see cref="RandomizedSvd"/> and take the rows of U S^p, L2-normalised. Chosen over training word2vec/GloVe:
/// deterministic, closed form, no learning-rate or epoch settings, and on small corpora it matches them (Levy et al.
/// 2015). Terms come from <see cref="TermTokenizer"/> (with the given stop words), so class names are matched the
/// same way as TF-IDF terms.
/// </summary>
public sealed class PpmiWordVectors
{
    private readonly Dictionary<string, int> _index;
    private readonly float[] _vectors;

    private PpmiWordVectors(string[] words, float[] vectors, int dimension, long tokens)
    {
        Words = words;
        _vectors = vectors;
        Dimension = dimension;
        Tokens = tokens;
        _index = new Dictionary<string, int>(words.Length, StringComparer.Ordinal);
        for (int i = 0; i < words.Length; i++) _index[words[i]] = i;
    }

    /// <summary>The vocabulary, most frequent first.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>Vector width.</summary>
    public int Dimension { get; }

    /// <summary>Tokens of the corpus kept for counting.</summary>
    public long Tokens { get; }

    /// <summary>
    /// Trains on <paramref name="texts"/> (one document each). <paramref name="requiredWords"/> (e.g. the words of
    /// the class names) stay in the vocabulary whatever their count, if they occur at all.
    /// </summary>
    public static PpmiWordVectors Train(IReadOnlyList<string> texts, IReadOnlySet<string> stopWords, PpmiOptions? options = null,
        IEnumerable<string>? requiredWords = null, CancellationToken cancellationToken = default)
    {
        options ??= new PpmiOptions();
        if (options.Window < 1 || options.MinCount < 1 || options.Dimension < 1 || options.ContextSmoothing <= 0)
            throw new ArgumentException("PPMI needs a window, minimum count and dimension of at least 1 and a positive smoothing exponent.");
        var docs = texts.Select(t => TermTokenizer.Tokenize(t, stopWords)).ToList();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var d in docs)
            foreach (var t in d) counts[t] = counts.GetValueOrDefault(t) + 1;
        var required = new HashSet<string>(requiredWords ?? [], StringComparer.Ordinal);
        var words = counts.Where(kv => kv.Value >= options.MinCount || required.Contains(kv.Key))
            .OrderByDescending(kv => required.Contains(kv.Key) ? long.MaxValue : kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(options.MaxVocabulary).Select(kv => kv.Key).ToArray();
        // The required words were sorted first so the cap cannot drop them; put the vocabulary back in count order.
        words = words.OrderByDescending(w => counts[w]).ThenBy(w => w, StringComparer.Ordinal).ToArray();
        if (words.Length < 2) throw new ArgumentException($"The corpus ({texts.Count} texts) has {words.Length} word(s) occurring at least {options.MinCount} times; word vectors need more text.");
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < words.Length; i++) index[words[i]] = i;

        var (ppmi, tokens) = BuildPpmi(docs, index, options, cancellationToken);
        int dim = Math.Min(options.Dimension, words.Length - 1);
        var svd = RandomizedSvd.Compute(ppmi, dim, oversample: 10, options.PowerIterations, options.Seed, cancellationToken);
        var vectors = new float[words.Length * dim];
        var weight = svd.Values.Select(s => Math.Pow(s, options.EigenvalueWeighting)).ToArray();
        for (int i = 0; i < words.Length; i++)
        {
            double norm = 0;
            for (int j = 0; j < dim; j++)
            {
                double v = svd.U[i * dim + j] * weight[j];
                norm += v * v;
            }
            double inv = norm > 0 ? 1 / Math.Sqrt(norm) : 0;
            for (int j = 0; j < dim; j++) vectors[i * dim + j] = (float)(svd.U[i * dim + j] * weight[j] * inv);
        }
        return new PpmiWordVectors(words, vectors, dim, tokens);
    }

    /// <summary>
    /// The core of <c>crossmodal classvec</c>: trains on <paramref name="corpus"/> keeping every word of
    /// <paramref name="classNames"/> that occurs, and returns one unit row per class [classes x Dimension] (write it
    /// with <c>Npy.Write</c>). For the extendable protocol pass only the seen classes' training texts, so nothing of
    /// the unseen classes' texts leaks into any class vector.
    /// </summary>
    public static (PpmiWordVectors Model, float[] Vectors) TrainForClasses(IReadOnlyList<string> corpus, IReadOnlyList<string> classNames,
        IReadOnlySet<string> stopWords, PpmiOptions? options = null, string corpusDescription = "the corpus", CancellationToken cancellationToken = default)
    {
        var none = new HashSet<string>(StringComparer.Ordinal);
        var words = classNames.SelectMany(n => TermTokenizer.Tokenize(n.Replace('_', ' '), none));
        var model = Train(corpus, stopWords, options, words, cancellationToken);
        return (model, model.ClassVectors(classNames, corpusDescription));
    }

    /// <summary>
    /// The sparse PPMI matrix of the documents' in-vocabulary tokens (out-of-vocabulary tokens are removed before
    /// windowing, so the window spans the kept words), and the number of kept tokens.
    /// </summary>
    internal static (CsrMatrix Matrix, long Tokens) BuildPpmi(IReadOnlyList<List<string>> docs, IReadOnlyDictionary<string, int> index,
        PpmiOptions options, CancellationToken cancellationToken = default)
    {
        int v = index.Count;
        var pairs = new Dictionary<long, double>();
        long tokens = 0;
        var ids = new List<int>();
        foreach (var d in docs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ids.Clear();
            foreach (var t in d)
                if (index.TryGetValue(t, out int id)) ids.Add(id);
            tokens += ids.Count;
            for (int i = 0; i < ids.Count; i++)
                for (int j = Math.Max(0, i - options.Window); j <= Math.Min(ids.Count - 1, i + options.Window); j++)
                {
                    if (j == i) continue;
                    long key = (long)ids[i] * v + ids[j];
                    pairs[key] = pairs.GetValueOrDefault(key) + 1;
                }
        }
        // Marginals of the (symmetric) count matrix: P(w) from row sums, P_alpha(c) from smoothed column sums.
        var row = new double[v];
        var col = new double[v];
        double total = 0;
        foreach (var (key, c) in pairs)
        {
            row[key / v] += c;
            col[key % v] += c;
            total += c;
        }
        double smoothedTotal = 0;
        var colAlpha = new double[v];
        for (int c = 0; c < v; c++)
        {
            colAlpha[c] = Math.Pow(col[c], options.ContextSmoothing);
            smoothedTotal += colAlpha[c];
        }
        var entries = pairs.Select(kv => (Row: (int)(kv.Key / v), Col: (int)(kv.Key % v), Count: kv.Value))
            .OrderBy(e => e.Row).ThenBy(e => e.Col).ToArray();
        var start = new int[v + 1];
        var cols = new List<int>(entries.Length);
        var vals = new List<double>(entries.Length);
        foreach (var e in entries)
        {
            // PMI = ln( (C(w,c) / total) / ((row(w) / total) * (col(c)^alpha / smoothedTotal)) ).
            double pmi = Math.Log(e.Count * smoothedTotal / (row[e.Row] * colAlpha[e.Col]));
            if (pmi <= 0) continue;
            cols.Add(e.Col);
            vals.Add(pmi);
            start[e.Row + 1]++;
        }
        for (int r = 0; r < v; r++) start[r + 1] += start[r];
        return (new CsrMatrix(v, v, start, cols.ToArray(), vals.ToArray()), tokens);
    }

    /// <summary>Whether <paramref name="word"/> (as <see cref="TermTokenizer"/> produces it) has a vector.</summary>
    public bool Contains(string word) => _index.ContainsKey(word);

    /// <summary>The unit vector of <paramref name="word"/>.</summary>
    public ReadOnlySpan<float> Vector(string word) =>
        _index.TryGetValue(word, out int i) ? _vectors.AsSpan(i * Dimension, Dimension)
            : throw new KeyNotFoundException($"'{word}' is not in the vocabulary ({Words.Count} words).");

    /// <summary>
    /// One row per class name [names x Dimension]: a multi-word name ("traffic light", "dining_table") is the mean of
    /// its words' vectors (as ML-GCN builds its GloVe class embeddings), then L2-normalised. A name with a word the
    /// corpus does not contain is one clear error.
    /// </summary>
    public float[] ClassVectors(IReadOnlyList<string> names, string corpusDescription = "the corpus")
    {
        var result = new float[names.Count * Dimension];
        var empty = new HashSet<string>(StringComparer.Ordinal);
        for (int n = 0; n < names.Count; n++)
        {
            var parts = TermTokenizer.Tokenize(names[n].Replace('_', ' '), empty);
            if (parts.Count == 0) throw new ArgumentException($"Class name '{names[n]}' has no word of two or more letters.");
            var row = result.AsSpan(n * Dimension, Dimension);
            foreach (var p in parts)
            {
                if (!_index.TryGetValue(p, out int i))
                    throw new ArgumentException($"Class name '{names[n]}': the word '{p}' does not occur in {corpusDescription} ({Words.Count} words kept); train on texts that mention it.");
                var v = _vectors.AsSpan(i * Dimension, Dimension);
                for (int j = 0; j < Dimension; j++) row[j] += v[j];
            }
            double norm = 0;
            foreach (float x in row) norm += x * x;
            float inv = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0f;
            for (int j = 0; j < Dimension; j++) row[j] *= inv;
        }
        return result;
    }

    /// <summary>Cosine similarity of two words' vectors.</summary>
    public double Similarity(string a, string b)
    {
        var x = Vector(a);
        var y = Vector(b);
        double s = 0;
        for (int j = 0; j < Dimension; j++) s += x[j] * y[j];
        return s;
    }
}
