using System.Text;
using System.Text.Json;
using CrossModal.Tests;

namespace CrossModal.Text.Tests.Tokenization;

/// <summary>
/// Parity with NLTK on real captions: tokenizer-golden holds NLTK's word_tokenize output (untrained Punkt split +
/// NLTK word tokenizer, lower-cased) for every Flickr30K test and dev caption of the SCAN precomp files.
/// </summary>
public sealed class WordTokenizerGoldenTests
{
    [Fact]
    public void Should_MatchNltk_OnAllGoldenCaptions()
    {
        int total = 0;
        var mismatches = new List<string>();
        foreach (var split in new[] { "test", "dev" })
        {
            var captions = ReadLines(TestData.Path("scan-precomp-captions", $"f30k_precomp_{split}_caps.txt"));
            var golden = ReadLines(TestData.Path("tokenizer-golden", $"f30k_precomp_{split}_tokens.jsonl"));
            Assert.Equal(golden.Count, captions.Count);
            for (int i = 0; i < captions.Count; i++)
            {
                var expected = JsonSerializer.Deserialize<List<string>>(golden[i])!;
                var actual = WordTokenizer.TokenizeCaption(captions[i]);
                total++;
                if (!expected.SequenceEqual(actual) && mismatches.Count < 10)
                    mismatches.Add($"{split}:{i + 1} {captions[i]}\n  nltk: {string.Join(" | ", expected)}\n  ours: {string.Join(" | ", actual)}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} (first) mismatches:\n{string.Join("\n", mismatches)}");
        Assert.Equal(10_070, total);
    }

    private static List<string> ReadLines(string path)
    {
        var lines = File.ReadAllText(path, new UTF8Encoding(false, true)).Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
