namespace CrossModal.Evaluation.Tests;

/// <summary>Corpus BLEU-4 against NLTK 3.x's <c>nltk.translate.bleu_score.corpus_bleu</c> (Debian python3-nltk).</summary>
public class BleuTests
{
    private static IReadOnlyList<string> T(string s) => s.Split(' ');

    [Fact]
    public void Should_MatchNltkCorpusBleu_WithClippingAndBrevityPenalty()
    {
        // /usr/bin/python3 -c "from nltk.translate.bleu_score import corpus_bleu; print(repr(corpus_bleu(refs, hyps)))"
        // with exactly these sentences printed 0.6652049901111008.
        var hyps = new[] { T("a dog runs on the grass"), T("two men are playing soccer in a park"), T("a child") };
        var refs = new IReadOnlyList<IReadOnlyList<string>>[]
        {
            [T("a dog is running on the grass"), T("the brown dog runs across the green grass"), T("a dog runs on grass")],
            [T("two men play soccer in the park"), T("men are playing football outside"), T("two men are playing a game of soccer in a park")],
            [T("a small child smiles at the camera"), T("a child is smiling")],
        };
        Assert.Equal(0.6652049901111008, Bleu.Corpus(hyps, refs), 12);
    }

    [Fact]
    public void Should_Give1ForAnExactMatch_And0WithoutAnyFourGramMatch()
    {
        var hyp = T("a man rides a red bike");
        Assert.Equal(1.0, Bleu.Corpus([hyp], [[hyp]]), 12);
        Assert.Equal(0.0, Bleu.Corpus([T("a man rides a red bike")], [[T("a man rides one red bike")]]));
    }

    [Fact]
    public void Should_ClipRepeatedWords_ToTheirCountInTheReference()
    {
        // Unigram precision of "the the the the" against "the cat": 1/4 (clipped), no bigram match -> 0 overall;
        // BLEU-1 = p1 = 1/4 (no brevity penalty: 4 words against 2).
        Assert.Equal(0.25, Bleu.Corpus([T("the the the the")], [[T("the cat")]], maxOrder: 1), 12);
    }
}
