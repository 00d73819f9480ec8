using CrossModal.Text.Features;

namespace CrossModal.Text.Tests.Features;

/// <summary>The term tokenizer and TF-IDF vectoriser against hand-worked values.</summary>
public sealed class TfidfVectorizerTests
{
    private static readonly HashSet<string> Stop = ["the", "a"];

    // d0: cat sat cat ran; d1: dog ran times; d2: cat dog ("Cat's": the "s" is too short).
    private static readonly string[] Corpus = ["The cat sat; the cat ran.", "A dog ran, 1066 times!", "Cat's dog"];

    [Fact]
    public void Should_TokenizeLetterRuns_LowerCased_WithoutStopWordsAndSingleLetters()
    {
        Assert.Equal(["king", "wars", "café", "naïve"], TermTokenizer.Tokenize("The King's 1066 wars: Café-naïve a", Stop));
    }

    [Fact]
    public void Should_KeepTheMostFrequentTerms_WithTiesInOrdinalOrder()
    {
        // Counts: cat 3, dog 2, ran 2, sat 1, times 1; four terms kept: cat, dog, ran, sat.
        var v = TfidfVectorizer.Fit(Corpus, Stop, maxTerms: 4);
        Assert.Equal(["cat", "dog", "ran", "sat"], v.Terms);
        Assert.Equal([2, 2, 2, 1], v.DocumentFrequency);
        Assert.Equal(Math.Log(4.0 / 3) + 1, v.Idf[0], 12);
        Assert.Equal(Math.Log(4.0 / 2) + 1, v.Idf[3], 12);
    }

    [Fact]
    public void Should_WeightByCountTimesIdf_AndNormalise()
    {
        var v = TfidfVectorizer.Fit(Corpus, Stop, maxTerms: 4);
        var row = new float[4];
        v.Transform("cat CAT sat unknown", row);
        double cat = 2 * (Math.Log(4.0 / 3) + 1), sat = Math.Log(2) + 1, norm = Math.Sqrt(cat * cat + sat * sat);
        Assert.Equal(cat / norm, row[0], 6);
        Assert.Equal(0f, row[1]);
        Assert.Equal(sat / norm, row[3], 6);
        v.Transform("nothing known here", row);
        Assert.All(row, x => Assert.Equal(0f, x));
        var counts = TfidfVectorizer.Fit(Corpus, Stop, 4, TermWeighting.Count);
        counts.Transform("cat CAT sat", row);
        Assert.Equal([2f, 0f, 0f, 1f], row);
    }

    [Fact]
    public void Should_SaveAndLoad_VectorisingTheSame()
    {
        var v = TfidfVectorizer.Fit(Corpus, Stop, maxTerms: 4);
        string path = Path.Combine(Path.GetTempPath(), $"tfidf-{Guid.NewGuid():N}.json");
        try
        {
            v.Save(path);
            var back = TfidfVectorizer.Load(path);
            Assert.Equal(v.Terms, back.Terms);
            Assert.Equal(v.StopWords, back.StopWords);
            Assert.Equal(v.Transform(["dog ran the cat"]).ToArray(), back.Transform(["dog ran the cat"]).ToArray());
            File.WriteAllText(path, "{\"format\": \"something-else\"}");
            var e = Assert.Throws<InvalidDataException>(() => TfidfVectorizer.Load(path));
            Assert.Contains("not a TF-IDF vocabulary", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
