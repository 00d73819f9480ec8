using CrossModal.Text.Tokenization;

namespace CrossModal.Text;

/// <summary>
/// NLTK's <c>word_tokenize</c> (NLTK 3.8) as the SCAN/VSE++ family calls it: a Punkt sentence split with default
/// (untrained) parameters, then NLTK's improved Treebank word tokenizer on each sentence. Quotes become <c>``</c>
/// and <c>''</c>, clitics split off (<c>n't</c>, <c>'s</c>, <c>'ll</c>, <c>'re</c>, <c>'ve</c>, <c>'d</c>,
/// <c>'m</c>), "cannot"/"gonna"/... split in two, punctuation and brackets become tokens, hyphenated words stay
/// whole. Matches NLTK on all 10,070 Flickr30K test/dev captions of the golden files. Thread-safe.
/// </summary>
/// <remarks>
/// Known differences from NLTK: letters and digits outside the Basic Multilingual Plane (e.g. mathematical
/// alphanumerics) are not word characters for the regex stage, because .NET matches UTF-16 units; this changes
/// the result only around such characters. Lower-casing follows Python 3 (all letters), as the golden files and
/// the Python 3 ports do; the Python 2 originals lower-cased the UTF-8 bytes, i.e. ASCII letters only.
/// </remarks>
public static class WordTokenizer
{
    /// <summary>Tokenizes <paramref name="text"/> as it is (NLTK: <c>word_tokenize(text)</c>).</summary>
    public static List<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>();
        Tokenize(text, tokens);
        return tokens;
    }

    /// <summary>Appends the tokens of <paramref name="text"/> to <paramref name="output"/>.</summary>
    public static void Tokenize(string text, List<string> output)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(output);
        var sentences = new List<string>(2);
        PunktSentenceSplitter.Split(text, sentences);
        foreach (var sentence in sentences) TreebankWordTokenizer.Tokenize(sentence, output);
    }

    /// <summary>
    /// Tokenizes a caption the way the originals do before the vocabulary lookup: Python's <c>strip()</c>, then
    /// <c>lower()</c>, then <see cref="Tokenize(string)"/>.
    /// </summary>
    public static List<string> TokenizeCaption(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        return Tokenize(NormalizeCaption(caption));
    }

    /// <summary>The caption as the tokenizer sees it: stripped of surrounding whitespace and lower-cased (Python semantics).</summary>
    public static string NormalizeCaption(string caption) => PythonText.Lower(PythonText.Strip(caption));
}
