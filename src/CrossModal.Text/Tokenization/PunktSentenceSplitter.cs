using System.Text;
using System.Text.RegularExpressions;

namespace CrossModal.Text.Tokenization;

/// <summary>
/// The sentence split of NLTK's <c>word_tokenize</c>: <c>PunktSentenceTokenizer</c> (NLTK 3.8) with default,
/// untrained parameters - no abbreviation list, no collocations, no sentence starters, no orthographic
/// statistics - which is what the golden files were made with (the trained English model is a download).
/// </summary>
/// <remarks>
/// <para>With empty parameters Punkt's decisions reduce to: every ".", "?" and "!" that is followed by
/// whitespace and another token (or by closing punctuation) is a candidate; a candidate is a sentence break
/// when the word before it, tokenized by Punkt's own word regex, yields a break token that is not the last
/// token of the context. Periods of an ellipsis ("..") never break; the period of an initial ("j.") or of a
/// number ("3.") does not break before a lower-case word or a punctuation token; an initial also not before an
/// upper-case word. Closing quotes and brackets after a break are moved into the preceding sentence.</para>
/// <para>Cost: one regex scan of the caption for [.?!]; a caption ending in " ." has no candidate (nothing
/// follows) and costs nothing more.</para>
/// </remarks>
internal static partial class PunktSentenceSplitter
{
    private const string S = PythonText.Space;
    private const string NS = PythonText.NonSpace;

    // PunktLanguageVars: characters that cannot appear in words (sentence-end characters other than '.').
    private const string NonWordChars = "(?:[)\";}\\]*:@'({\\[?!])";
    private const string MultiCharPunct = "(?:-{2,}|\\.{2,}|(?:\\." + S + "){2,}\\.)";
    private const string WordStart = "[^(\"`{\\[:;&#*@)}\\]\\-,]";

    /// <summary>Splits <paramref name="text"/> into sentences (NLTK: <c>PunktSentenceTokenizer().tokenize(text)</c>).</summary>
    public static void Split(string text, List<string> output)
    {
        var slices = Slices(text);
        foreach (var (start, stop) in RealignBoundaries(text, slices))
            output.Add(PySlice(text, start, stop));
    }

    /// <summary>Python's <c>text[start:stop]</c> for non-negative bounds.</summary>
    private static string PySlice(string text, int start, int stop)
    {
        stop = Math.Min(stop, text.Length);
        return start >= stop ? string.Empty : text[start..stop];
    }

    // _slices_from_text: cut after each candidate whose context contains a break.
    private static List<(int Start, int Stop)> Slices(string text)
    {
        var slices = new List<(int, int)>();
        int lastBreak = 0;
        foreach (var (match, context) in PotentialEndContexts(text))
        {
            if (!ContextContainsBreak(context)) continue;
            int end = match.Index + match.Length;
            slices.Add((lastBreak, end));
            var next = match.Groups["next_tok"];
            lastBreak = next.Success ? next.Index : end;
        }
        slices.Add((lastBreak, PythonText.RStripLength(text)));
        return slices;
    }

    // _realign_boundaries: closing quotes/brackets at the start of the next slice belong to the previous one.
    private static IEnumerable<(int Start, int Stop)> RealignBoundaries(string text, List<(int Start, int Stop)> slices)
    {
        int realign = 0;
        for (int i = 0; i < slices.Count; i++)
        {
            var (start, stop) = (slices[i].Start + realign, slices[i].Stop);
            if (i + 1 == slices.Count)
            {
                if (PySlice(text, start, stop).Length > 0) yield return (start, stop);
                continue;
            }
            var next = slices[i + 1];
            var m = BoundaryRealignment().Match(PySlice(text, next.Start, next.Stop));
            if (m.Success && m.Index == 0)
            {
                string g = m.Value;
                yield return (start, next.Start + PythonText.RStripLength(g));
                realign = m.Index + m.Length;
            }
            else
            {
                realign = 0;
                if (PySlice(text, start, stop).Length > 0) yield return (start, stop);
            }
        }
    }

    // _match_potential_end_contexts: each candidate with the word before it; a candidate whose word overlaps the
    // previous candidate's word (e.g. "!!!") replaces it.
    private static List<(Match Match, string Context)> PotentialEndContexts(string text)
    {
        var result = new List<(Match, string)>();
        int prevStart = 0, prevStop = 0;
        Match? prevMatch = null;
        for (var m = PeriodContext().Match(text); m.Success; m = m.NextMatch())
        {
            int lastSpace = LastAsciiWhitespace(text, prevStop, m.Index);
            int wordStart = lastSpace != 0 ? lastSpace + prevStop + 1 : prevStart;
            if (prevMatch is not null && prevStop <= wordStart)
                result.Add((prevMatch, Context(text, prevStart, prevStop, prevMatch)));
            prevMatch = m;
            prevStart = wordStart;
            prevStop = m.Index;
        }
        if (prevMatch is not null) result.Add((prevMatch, Context(text, prevStart, prevStop, prevMatch)));
        return result;
    }

    private static string Context(string text, int start, int stop, Match m) =>
        PySlice(text, start, stop) + m.Value + m.Groups["after_tok"].Value;

    // _get_last_whitespace_index over text[from:to]: index relative to `from` of the last ASCII whitespace
    // (Python's string.whitespace), 0 when there is none (NLTK cannot tell "none" from "at 0": kept).
    private static int LastAsciiWhitespace(string text, int from, int to)
    {
        for (int i = to - 1; i >= from; i--)
        {
            char c = text[i];
            if (c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f') return i - from;
        }
        return 0;
    }

    // text_contains_sentbreak: a break token that has a token after it.
    private static bool ContextContainsBreak(string context)
    {
        var tokens = new List<string>();
        foreach (var line in context.Split('\n'))
        {
            if (PythonText.Strip(line).Length == 0) continue;
            for (var m = PunktWord().Match(line); m.Success; m = m.NextMatch()) tokens.Add(m.Value);
        }
        for (int i = 0; i + 1 < tokens.Count; i++)
            if (IsBreak(tokens[i], tokens[i + 1])) return true;
        return false;
    }

    // First pass (type-based) and second pass (token-based) annotation of `token` followed by `next`, with empty
    // Punkt parameters.
    private static bool IsBreak(string token, string next)
    {
        if (token is "." or "?" or "!") return true;
        if (IsEllipsis(token)) return false; // ellipsis: the orthographic heuristic never says "starter" untrained
        if (!token.EndsWith('.') || token.EndsWith("..", StringComparison.Ordinal)) return false;
        // A period-final word is a break unless it is an initial or a number that the heuristic reclassifies.
        // Initial: one code point that is a word character but not a decimal digit, then the period.
        var first = FirstRune(token);
        bool initial = token.Length == first.Utf16SequenceLength + 1 && PythonText.IsWord(first) && !Rune.IsDigit(first);
        // Punkt compares the type (lower-cased, numbers replaced by "##number##") without its final period.
        string lower = PythonText.Lower(token);
        bool number = NumericToken().IsMatch(lower) || lower == "##number##.";
        if (!initial && !number) return true;
        var ortho = OrthographicHeuristic(next);
        if (ortho == false) return false;
        if (ortho is null && initial && PythonText.IsUpper(FirstRune(next))) return false;
        return true;
    }

    // _ortho_heuristic with no orthographic statistics: false for punctuation and lower-case words, else unknown.
    private static bool? OrthographicHeuristic(string token)
    {
        if (token is ";" or ":" or "," or "." or "!" or "?") return false;
        if (PythonText.IsLower(FirstRune(token))) return false;
        return null;
    }

    // tok[0] in Python is a code point; a lone surrogate stays itself.
    private static Rune FirstRune(string token) =>
        Rune.DecodeFromUtf16(token, out var r, out _) == System.Buffers.OperationStatus.Done ? r : new Rune('\uFFFD');

    private static bool IsEllipsis(string token)
    {
        if (token.Length < 2) return false;
        foreach (char c in token) if (c != '.') return false;
        return true;
    }

    // PunktLanguageVars.period_context_re: a sentence-end character followed by punctuation or by whitespace and
    // the next token (captured inside the lookahead, as in NLTK).
    [GeneratedRegex("[.?!](?=(?<after_tok>" + NonWordChars + "|" + S + "+(?<next_tok>" + NS + "+)))")]
    private static partial Regex PeriodContext();

    // PunktLanguageVars._word_tokenize_fmt: multi-character punctuation, or a word up to whitespace, non-word
    // punctuation or a word-final comma, or any single non-space character.
    [GeneratedRegex(
        MultiCharPunct +
        "|(?=" + WordStart + ")" + NS + "+?(?=" + S + "|$|" + NonWordChars + "|" + MultiCharPunct +
        "|,(?=$|" + S + "|" + NonWordChars + "|" + MultiCharPunct + "))" +
        "|" + NS)]
    private static partial Regex PunktWord();

    // PunktLanguageVars.re_boundary_realignment (re.match: anchored at the start with \G).
    [GeneratedRegex("\\G[\"')\\]}]+?(?:" + S + "+|(?=--)|$)", RegexOptions.Multiline)]
    private static partial Regex BoundaryRealignment();

    // PunktToken._RE_NUMERIC, applied to the lower-cased token.
    [GeneratedRegex("^-?[.,]?\\d[\\d,.\\-]*\\.?$")]
    private static partial Regex NumericToken();
}
