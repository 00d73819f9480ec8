using System.Text.Json;
using CrossModal.Tests;

namespace CrossModal.Text.Tests.Tokenization;

/// <summary>
/// Rule-level behaviour of the word_tokenize port, with expectations from NLTK: hand-picked cases whose NLTK output
/// is documented (NLTK's docstrings and the Treebank conventions), and 2,000 adversarial strings tokenized by NLTK
/// 3.8 itself (tests/fixtures/text/make_tokenizer_cases.py).
/// </summary>
public sealed class WordTokenizerTests
{
    [Theory]
    [InlineData("A man's dog can't swim.", "a|man|'s|dog|ca|n't|swim|.")]
    [InlineData("I cannot go, we're gonna wait", "i|can|not|go|,|we|'re|gon|na|wait")]
    [InlineData("She said \"hello\" to them", "she|said|``|hello|''|to|them")]
    [InlineData("a man in a t-shirt (and jeans) .", "a|man|in|a|t-shirt|(|and|jeans|)|.")]
    [InlineData("  Two dogs; one cat!  ", "two|dogs|;|one|cat|!")]
    [InlineData("it costs $3.88 , roughly 3,36 euros", "it|costs|$|3.88|,|roughly|3,36|euros")]
    [InlineData("he waited... then left", "he|waited|...|then|left")]
    [InlineData("it's 'tis the dog's bone", "it|'s|'t|is|the|dog|'s|bone")]
    public void Should_TokenizeCaption_LikeNltk(string caption, string expected)
    {
        Assert.Equal(expected.Split('|'), WordTokenizer.TokenizeCaption(caption));
    }

    [Fact]
    public void Should_SplitSentences_AtPeriodsFollowedByAWord()
    {
        // NLTK's docstring example for word_tokenize; "York." and "them." end sentences, so their periods split off.
        var tokens = WordTokenizer.Tokenize("Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\nThanks.");
        Assert.Equal(new[] { "Good", "muffins", "cost", "$", "3.88", "in", "New", "York", ".", "Please", "buy", "me", "two", "of", "them", ".", "Thanks", "." }, tokens);
    }

    [Fact]
    public void Should_KeepPeriodsInsideASentence_WhenNoBreakFollows()
    {
        // Without a sentence break the Treebank stage only splits the final period: "j." is an initial before a
        // lower-case word, so Punkt does not break there either.
        Assert.Equal(new[] { "mr", "j.", "smith", "walks", "." }, WordTokenizer.TokenizeCaption("Mr J. Smith walks."));
        Assert.Equal(new[] { "a", "dog", ".", "a", "cat", "." }, WordTokenizer.TokenizeCaption("A dog. A cat."));
    }

    [Fact]
    public void Should_ReturnNoTokens_ForEmptyOrBlankText()
    {
        Assert.Empty(WordTokenizer.Tokenize(""));
        Assert.Empty(WordTokenizer.TokenizeCaption(" \t\n"));
    }

    [Fact]
    public void Should_MatchNltk_OnAdversarialStrings()
    {
        int n = 0;
        var mismatches = new List<string>();
        foreach (var line in File.ReadLines(TestData.Fixture("text", "tokenizer_cases.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            string text = doc.RootElement.GetProperty("text").GetString()!;
            var raw = doc.RootElement.GetProperty("raw").EnumerateArray().Select(e => e.GetString()!).ToList();
            var caption = doc.RootElement.GetProperty("caption").EnumerateArray().Select(e => e.GetString()!).ToList();
            var actualRaw = WordTokenizer.Tokenize(text);
            var actualCaption = WordTokenizer.TokenizeCaption(text);
            n++;
            if (!raw.SequenceEqual(actualRaw) && mismatches.Count < 5)
                mismatches.Add($"raw {JsonSerializer.Serialize(text)}\n  nltk {JsonSerializer.Serialize(raw)}\n  ours {JsonSerializer.Serialize(actualRaw)}");
            if (!caption.SequenceEqual(actualCaption) && mismatches.Count < 5)
                mismatches.Add($"caption {JsonSerializer.Serialize(text)}\n  nltk {JsonSerializer.Serialize(caption)}\n  ours {JsonSerializer.Serialize(actualCaption)}");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.Equal(2000, n);
    }
}
