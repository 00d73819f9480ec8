namespace CrossModal.Text.Features;

/// <summary>
/// The tokenisation of bag-of-words features: the text is lower-cased (invariant culture); a term is a maximal run
/// of letters (<see cref="char.IsLetter(char)"/>, so accented letters count); digits, punctuation, apostrophes and
/// spaces separate terms ("King's 1066 wars" gives "king", "s", "wars"); terms shorter than two letters and stop
/// words are dropped. Deliberately simpler than the caption tokenizer (<see cref="WordTokenizer"/>): topic features
/// only need content words, and a rule this short is easy to reproduce in any language.
/// </summary>
public static class TermTokenizer
{
    /// <summary>The name written into saved vocabularies, so a file made with another rule is refused.</summary>
    public const string RuleName = "lower-letter-runs-min2";

    /// <summary>Calls <paramref name="onTerm"/> for every kept term of <paramref name="text"/>, in order.</summary>
    public static void Tokenize(string text, IReadOnlySet<string> stopWords, Action<string> onTerm)
    {
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetter(text[i])) i++;
            int start = i;
            while (i < text.Length && char.IsLetter(text[i])) i++;
            if (i - start < 2) continue;
            string term = text.Substring(start, i - start).ToLowerInvariant();
            if (!stopWords.Contains(term)) onTerm(term);
        }
    }

    /// <summary>The kept terms of <paramref name="text"/>.</summary>
    public static List<string> Tokenize(string text, IReadOnlySet<string> stopWords)
    {
        var terms = new List<string>();
        Tokenize(text, stopWords, terms.Add);
        return terms;
    }

    /// <summary>A stop-word list: one word per line, lower-cased, blank lines skipped.</summary>
    public static HashSet<string> LoadStopWords(string path) =>
        TextLines.Read(path).Select(l => l.Trim().ToLowerInvariant()).Where(l => l.Length > 0).ToHashSet(StringComparer.Ordinal);
}
