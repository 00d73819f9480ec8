using System.Text.RegularExpressions;

namespace CrossModal.Text.Tokenization;

/// <summary>
/// NLTK's improved Treebank word tokenizer (<c>nltk.tokenize.destructive.NLTKWordTokenizer</c>, NLTK 3.8), the
/// second stage of <c>word_tokenize</c>: a fixed sequence of regex substitutions that pad tokens with spaces,
/// then a whitespace split. The order matters and is NLTK's: starting quotes, punctuation, brackets, double
/// dashes, ending quotes (incl. the clitics 's 'm 'd 'll 're 've n't), then the MacIntyre contractions
/// (cannot, gimme, gonna, gotta, lemme, more'n, wanna, d'ye, 'tis, 'twas). Parentheses are not converted to PTB
/// symbols (word_tokenize's default).
/// </summary>
/// <remarks>
/// The patterns are NLTK's with Python's <c>\s</c>, <c>\w</c> and <c>\b</c> spelled out (see
/// <see cref="PythonText"/>), because .NET's classes differ at the edges (combining marks, U+001C..U+001F).
/// Each substitution allocates one string; a caption costs about 25 regex scans over ~60 characters.
/// </remarks>
internal static partial class TreebankWordTokenizer
{
    private const string S = PythonText.Space;
    private const string W = PythonText.Word;

    // Word boundary \b where the next character is known to be a word character, and where the previous one is.
    private const string BoundaryBeforeWord = "(?<!" + W + ")";
    private const string BoundaryAfterWord = "(?!" + W + ")";

    /// <summary>Tokenizes one sentence (NLTK: <c>NLTKWordTokenizer().tokenize(text)</c>).</summary>
    public static void Tokenize(string text, List<string> output)
    {
        // Starting quotes.
        text = OpeningQuotes().Replace(text, " $1 ");
        text = LeadingDoubleQuote().Replace(text, "``");
        text = DoubleBacktick().Replace(text, " $1 ");
        text = QuoteAfterOpener().Replace(text, "$1 `` ");
        text = ApostropheBeforeWord().Replace(text, "$1 $2");

        // Punctuation.
        text = FinalPeriodWithUnicodeClosers().Replace(text, "$1 $2 $3 ");
        text = ColonCommaBeforeNonDigit().Replace(text, " $1 $2");
        text = ColonCommaAtEnd().Replace(text, " $1 ");
        text = Ellipsis().Replace(text, " $0 ");
        text = Symbols().Replace(text, " $0 ");
        text = FinalPeriod().Replace(text, "$1 $2$3 ");
        text = QuestionExclamation().Replace(text, " $0 ");
        text = ApostropheSpace().Replace(text, "$1 ' ");
        text = Asterisk().Replace(text, " $0 ");

        // Brackets, double dashes.
        text = Brackets().Replace(text, " $0 ");
        text = DoubleDash().Replace(text, " -- ");

        text = " " + text + " ";

        // Ending quotes and clitics.
        text = ClosingQuotes().Replace(text, " $1 ");
        text = TwoApostrophes().Replace(text, " '' ");
        text = DoubleQuote().Replace(text, " '' ");
        text = CliticSMD().Replace(text, "$1 $2 ");
        text = CliticLlReVeNt().Replace(text, "$1 $2 ");

        // MacIntyre contractions (CONTRACTIONS2, then CONTRACTIONS3).
        text = Cannot().Replace(text, " $1 $2 ");
        text = DYe().Replace(text, " $1 $2 ");
        text = Gimme().Replace(text, " $1 $2 ");
        text = Gonna().Replace(text, " $1 $2 ");
        text = Gotta().Replace(text, " $1 $2 ");
        text = Lemme().Replace(text, " $1 $2 ");
        text = MoreN().Replace(text, " $1 $2 ");
        text = Wanna().Replace(text, " $1 $2 ");
        text = Tis().Replace(text, " $1 $2 ");
        text = Twas().Replace(text, " $1 $2 ");

        PythonText.SplitWhitespace(text, output);
    }

    [GeneratedRegex("([«“‘„]|`+)")]
    private static partial Regex OpeningQuotes();

    [GeneratedRegex("^\"")]
    private static partial Regex LeadingDoubleQuote();

    [GeneratedRegex("(``)")]
    private static partial Regex DoubleBacktick();

    [GeneratedRegex("([ (\\[{<])(\"|'{2})")]
    private static partial Regex QuoteAfterOpener();

    [GeneratedRegex("(')(?!re|ve|ll|m|t|s|d|n)(" + W + ")" + BoundaryAfterWord, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ApostropheBeforeWord();

    [GeneratedRegex("([^.])(\\.)([\\])}>\"'»”’ ]*)" + S + "*$")]
    private static partial Regex FinalPeriodWithUnicodeClosers();

    [GeneratedRegex("([:,])([^\\d])")]
    private static partial Regex ColonCommaBeforeNonDigit();

    [GeneratedRegex("([:,])$")]
    private static partial Regex ColonCommaAtEnd();

    [GeneratedRegex("\\.{2,}")]
    private static partial Regex Ellipsis();

    [GeneratedRegex("[;@#$%&]")]
    private static partial Regex Symbols();

    [GeneratedRegex("([^.])(\\.)([\\])}>\"']*)" + S + "*$")]
    private static partial Regex FinalPeriod();

    [GeneratedRegex("[?!]")]
    private static partial Regex QuestionExclamation();

    [GeneratedRegex("([^'])' ")]
    private static partial Regex ApostropheSpace();

    [GeneratedRegex("[*]")]
    private static partial Regex Asterisk();

    [GeneratedRegex("[\\][(){}<>]")]
    private static partial Regex Brackets();

    [GeneratedRegex("--")]
    private static partial Regex DoubleDash();

    [GeneratedRegex("([»”’])")]
    private static partial Regex ClosingQuotes();

    [GeneratedRegex("''")]
    private static partial Regex TwoApostrophes();

    [GeneratedRegex("\"")]
    private static partial Regex DoubleQuote();

    [GeneratedRegex("([^' ])('[sS]|'[mM]|'[dD]|') ")]
    private static partial Regex CliticSMD();

    [GeneratedRegex("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ")]
    private static partial Regex CliticLlReVeNt();

    private const RegexOptions Ci = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;

    [GeneratedRegex(BoundaryBeforeWord + "(can)(not)" + BoundaryAfterWord, Ci)]
    private static partial Regex Cannot();

    [GeneratedRegex(BoundaryBeforeWord + "(d)('ye)" + BoundaryAfterWord, Ci)]
    private static partial Regex DYe();

    [GeneratedRegex(BoundaryBeforeWord + "(gim)(me)" + BoundaryAfterWord, Ci)]
    private static partial Regex Gimme();

    [GeneratedRegex(BoundaryBeforeWord + "(gon)(na)" + BoundaryAfterWord, Ci)]
    private static partial Regex Gonna();

    [GeneratedRegex(BoundaryBeforeWord + "(got)(ta)" + BoundaryAfterWord, Ci)]
    private static partial Regex Gotta();

    [GeneratedRegex(BoundaryBeforeWord + "(lem)(me)" + BoundaryAfterWord, Ci)]
    private static partial Regex Lemme();

    [GeneratedRegex(BoundaryBeforeWord + "(more)('n)" + BoundaryAfterWord, Ci)]
    private static partial Regex MoreN();

    [GeneratedRegex(BoundaryBeforeWord + "(wan)(na)(?=" + S + ")", Ci)]
    private static partial Regex Wanna();

    [GeneratedRegex(" ('t)(is)" + BoundaryAfterWord, Ci)]
    private static partial Regex Tis();

    [GeneratedRegex(" ('t)(was)" + BoundaryAfterWord, Ci)]
    private static partial Regex Twas();
}
