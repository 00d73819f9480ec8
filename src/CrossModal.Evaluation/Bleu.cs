namespace CrossModal.Evaluation;

/// <summary>
/// Corpus BLEU (Papineni et al., 2002) as NLTK's <c>corpus_bleu</c> computes it with its defaults: modified n-gram
/// precisions for n = 1..4 (each hypothesis n-gram counted at most as often as it occurs in any one of its
/// references), summed over the corpus before dividing; uniform weights; brevity penalty exp(1 − r/c) when the
/// total hypothesis length c is below r, the sum over hypotheses of the reference length closest to the
/// hypothesis's (the shorter on a tie); 0 when some order has no match at all (no smoothing). As in NLTK, a
/// hypothesis shorter than n adds 1 to the order-n denominator (its modified precision is max(1, count)-based).
/// </summary>
public static class Bleu
{
    /// <summary>BLEU-<paramref name="maxOrder"/> of tokenised hypotheses, each with its references.</summary>
    public static double Corpus(IReadOnlyList<IReadOnlyList<string>> hypotheses, IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> references, int maxOrder = 4)
    {
        if (hypotheses.Count != references.Count)
            throw new ArgumentException($"{hypotheses.Count} hypotheses but {references.Count} reference sets.");
        if (maxOrder < 1) throw new ArgumentOutOfRangeException(nameof(maxOrder), maxOrder, "The n-gram order must be at least 1.");
        var matched = new long[maxOrder];
        var total = new long[maxOrder];
        long hypLength = 0, refLength = 0;
        for (int s = 0; s < hypotheses.Count; s++)
        {
            var hyp = hypotheses[s];
            var refs = references[s];
            if (refs.Count == 0) throw new ArgumentException($"Hypothesis {s} has no reference.");
            for (int n = 1; n <= maxOrder; n++)
            {
                var counts = NGrams(hyp, n);
                var maxRef = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var r in refs)
                    foreach (var (gram, c) in NGrams(r, n))
                        if (!maxRef.TryGetValue(gram, out int m) || c > m) maxRef[gram] = c;
                long grams = 0;
                foreach (var (gram, c) in counts)
                {
                    matched[n - 1] += Math.Min(c, maxRef.GetValueOrDefault(gram));
                    grams += c;
                }
                total[n - 1] += Math.Max(1, grams); // NLTK: a hypothesis too short for order n still counts 1

            }
            hypLength += hyp.Count;
            int closest = refs[0].Count;
            foreach (var r in refs)
            {
                int d = Math.Abs(r.Count - hyp.Count), best = Math.Abs(closest - hyp.Count);
                if (d < best || d == best && r.Count < closest) closest = r.Count;
            }
            refLength += closest;
        }
        double logSum = 0;
        for (int n = 0; n < maxOrder; n++)
        {
            if (matched[n] == 0) return 0;
            logSum += Math.Log((double)matched[n] / total[n]) / maxOrder;
        }
        double brevity = hypLength < refLength ? Math.Exp(1 - (double)refLength / hypLength) : 1;
        return brevity * Math.Exp(logSum);
    }

    private static Dictionary<string, int> NGrams(IReadOnlyList<string> tokens, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + n <= tokens.Count; i++)
        {
            // Tokens never contain '\u0001', so joining with it keeps n-grams distinct.
            string gram = string.Join('\u0001', Enumerable.Range(i, n).Select(k => tokens[k]));
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        }
        return counts;
    }
}
