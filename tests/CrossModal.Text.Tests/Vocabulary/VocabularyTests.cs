using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CrossModal.Tests;

namespace CrossModal.Text.Tests.Vocabulary;

/// <summary>
/// The SCAN vocabulary format against the shipped files (sizes, sample ids and SHA-256 from the methods reference,
/// byte-for-byte round trips), the build rule against vocab.py run in Python, and caption encoding against the
/// NLTK golden tokens looked up in the raw JSON.
/// </summary>
public sealed class VocabularyTests
{
    [Theory]
    [InlineData("f30k_precomp_vocab.json", 8481)]
    [InlineData("coco_precomp_vocab.json", 11353)]
    [InlineData("f8k_precomp_vocab.json", 3159)]
    public void Should_RoundTripShippedFiles_ByteForByte(string file, int size)
    {
        string path = TestData.Path("vocab", file);
        byte[] original = File.ReadAllBytes(path);
        var vocab = Text.Vocabulary.Load(path);
        Assert.Equal(size, vocab.Count);
        Assert.Equal(original, Encoding.UTF8.GetBytes(vocab.ToJson()));

        string tmp = Path.Combine(Path.GetTempPath(), $"vocab-{Guid.NewGuid():N}.json");
        try
        {
            vocab.Save(tmp);
            Assert.Equal(original, File.ReadAllBytes(tmp));
        }
        finally { File.Delete(tmp); }
    }

    [Fact]
    public void Should_LoadF30k_WithThePublishedHashAndIds()
    {
        string path = TestData.Path("vocab", "f30k_precomp_vocab.json");
        Assert.Equal("ece46633bedb157d3430716d2fe8c90d2631895c97eb5eebfc5c1c3e04ebca44",
            Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        var v = Text.Vocabulary.Load(path);
        Assert.Equal(3256, v.IdOf("a"));
        Assert.Equal(348, v.IdOf("."));
        Assert.Equal(4313, v.IdOf(","));
        Assert.Equal(4845, v.IdOf("man"));
        Assert.Equal(515, v.IdOf("'s"));
        Assert.Equal(5083, v.IdOf("n't"));
        Assert.Equal(1566, v.IdOf("t-shirt"));
        Assert.Equal(1566, v.IdOf("t-shirt".AsSpan()));
        Assert.Equal("t-shirt", v.WordOf(1566));
        Assert.Equal(Text.Vocabulary.Unk, v.IdOf("qzxwv"));
        Assert.Equal(new[] { "<pad>", "<start>", "<end>", "<unk>" }, Enumerable.Range(0, 4).Select(v.WordOf));
    }

    [Fact]
    public void Should_EncodeCaptions_AsStartIdsEnd()
    {
        var v = Text.Vocabulary.Load(TestData.Path("vocab", "f30k_precomp_vocab.json"));
        // Ids from the methods reference (3.1): a=3256, man=4845, 's=515, t-shirt=1566, ","=4313, "."=348.
        Assert.Equal(new[] { 1, 3256, 4845, 515, 1566, 4313, 3256, 4845, 348, 2 }, v.Encode("  A man's T-shirt, a man.\n"));
        Assert.Equal(new[] { 1, 3256, 3, 2 }, v.Encode("a qzxwv"));
        Assert.Equal(new[] { 1, 2 }, v.Encode(""));
    }

    [Fact]
    public void Should_EncodeEveryGoldenCaption_LikeTheOriginals()
    {
        // Expected ids: the NLTK golden tokens looked up in the raw JSON (word2idx.get(token, 3)).
        string vocabPath = TestData.Path("vocab", "f30k_precomp_vocab.json");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(vocabPath));
        var word2idx = doc.RootElement.GetProperty("word2idx").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        var v = Text.Vocabulary.Load(vocabPath);
        var captions = File.ReadAllLines(TestData.Path("scan-precomp-captions", "f30k_precomp_test_caps.txt"));
        var golden = File.ReadAllLines(TestData.Path("tokenizer-golden", "f30k_precomp_test_tokens.jsonl"));
        int unknown = 0, total = 0;
        for (int i = 0; i < golden.Length; i++)
        {
            var tokens = JsonSerializer.Deserialize<string[]>(golden[i])!;
            var expected = new List<int> { 1 };
            foreach (var t in tokens) expected.Add(word2idx.TryGetValue(t, out int id) ? id : 3);
            expected.Add(2);
            Assert.Equal(expected, v.Encode(captions[i]));
            unknown += expected.Count(id => id == 3);
            total += tokens.Length;
        }
        // The reference reports 1.07% OOV with whitespace tokens; NLTK tokens should be in the same range.
        Assert.InRange(unknown / (double)total, 0.001, 0.03);
    }

    [Fact]
    public void Should_BuildLikeVocabPy_OnPython3()
    {
        // vocab_f8k1k_train_dev_t4.json: SCAN's vocab.py rule run in Python 3 on the same captions (make_vocab_f8k_train_dev.py).
        var captions = File.ReadAllLines(TestData.Path("f8k-1k-precomp", "train_caps.txt"))
            .Concat(File.ReadAllLines(TestData.Path("f8k-1k-precomp", "dev_caps.txt")));
        var built = Text.Vocabulary.Build(captions, threshold: 4);
        byte[] expected = File.ReadAllBytes(TestData.Fixture("text", "vocab_f8k1k_train_dev_t4.json"));
        Assert.Equal(Encoding.UTF8.GetString(expected), built.ToJson());
    }

    [Fact]
    public void Should_KeepOnlyWordsAtTheThreshold_InFirstOccurrenceOrder()
    {
        var captions = new[] { "b a a", "c b a", "b c", "d" };
        var v = Text.Vocabulary.Build(captions, threshold: 2);
        // counts: b=3, a=3, c=2, d=1; first occurrence b, a, c.
        Assert.Equal(new[] { "<pad>", "<start>", "<end>", "<unk>", "b", "a", "c" }, v.Words);
        Assert.Equal(Text.Vocabulary.Unk, v.IdOf("d"));
    }

    [Fact]
    public void Should_RoundTripThroughJson_WithNonAsciiWords()
    {
        var v = Text.Vocabulary.FromWords(["<pad>", "<start>", "<end>", "<unk>", "café", "’", "a\"b\\c"]);
        string json = v.ToJson();
        Assert.Contains("\"caf\\u00e9\"", json);
        var back = Text.Vocabulary.FromJson(json, "test");
        Assert.Equal(v.Words, back.Words);
        Assert.Equal(json, back.ToJson());
        // The expected text is what Python's json.dumps writes for the same dict.
        Assert.StartsWith("{\"idx2word\": {\"0\": \"<pad>\", \"1\": \"<start>\", ", json);
        Assert.EndsWith("\"a\\\"b\\\\c\": 6}, \"idx\": 7}", json);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1, 2]", "expected a JSON object")]
    [InlineData("{\"word2idx\": {}, \"idx\": 4}", "missing idx2word")]
    [InlineData("{\"word2idx\": {\"<pad>\": 0, \"<start>\": 1, \"<end>\": 2, \"<unk>\": 3}, \"idx2word\": {\"0\": \"<pad>\", \"1\": \"<start>\", \"2\": \"<end>\", \"3\": \"<unk>\"}, \"idx\": 5}", "word2idx has 4 entries but idx = 5")]
    [InlineData("{\"word2idx\": {\"<pad>\": 0, \"<start>\": 1, \"<end>\": 2, \"<unk>\": 3}, \"idx2word\": {\"0\": \"<pad>\", \"1\": \"<start>\", \"2\": \"<end>\", \"3\": \"x\"}, \"idx\": 4}", "idx2word['3'] = \"x\" but word2idx gives id 3 to '<unk>'")]
    [InlineData("{\"word2idx\": {\"<pad>\": 0, \"<unk>\": 1, \"<start>\": 2, \"<end>\": 3}, \"idx2word\": {\"0\": \"<pad>\", \"1\": \"<unk>\", \"2\": \"<start>\", \"3\": \"<end>\"}, \"idx\": 4}", "id 1 is '<unk>', expected '<start>'")]
    public void Should_RejectMalformedFiles_WithAMessageNamingTheFile(string json, string expected)
    {
        string tmp = Path.Combine(Path.GetTempPath(), $"bad-vocab-{Guid.NewGuid():N}.json");
        File.WriteAllText(tmp, json);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => Text.Vocabulary.Load(tmp));
            Assert.StartsWith(tmp, e.Message);
            Assert.Contains(expected, e.Message);
        }
        finally { File.Delete(tmp); }
    }

    [Fact]
    public void Should_ReportAMissingFile()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Text.Vocabulary.Load("/nonexistent/vocab.json"));
        Assert.Contains("/nonexistent/vocab.json", e.Message);
    }

    // Found by the fuzz runner (issue 20): a word or key that is not valid text (invalid UTF-8, or an escaped lone
    // surrogate) threw InvalidOperationException from JsonDocument instead of the documented InvalidDataException.
    [Fact]
    public void Should_NameTheFile_WhenAWordIsNotValidText()
    {
        string json = Text.Vocabulary.FromWords(["<pad>", "<start>", "<end>", "<unk>", "dog"]).ToJson();
        var lone = Assert.Throws<InvalidDataException>(() => Text.Vocabulary.FromJson(json.Replace("\"dog\"", "\"\\ud800\""), "lone.json"));
        Assert.StartsWith("lone.json: ", lone.Message);
        Assert.Contains("not valid text", lone.Message);

        using var dir = new TempFolder();
        var bytes = System.Text.Encoding.UTF8.GetBytes(json.Replace("dog", "d\u00ffg"));
        int at = bytes.AsSpan().IndexOf((byte)0xC3);
        string path = dir.File("bad-utf8.json");
        File.WriteAllBytes(path, [.. bytes[..at], 0xFF, .. bytes[(at + 2)..]]);
        var e = Assert.Throws<InvalidDataException>(() => Text.Vocabulary.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
    }

    // Found by review (issue 20): "idx" sized the word arrays before the entries were counted, so a 200-byte file
    // claiming two billion words asked for 16 GB.
    [Fact]
    public void Should_CheckIdxAgainstTheEntries_BeforeAllocating()
    {
        string json = Text.Vocabulary.FromWords(["<pad>", "<start>", "<end>", "<unk>"]).ToJson().Replace("\"idx\": 4", "\"idx\": 2000000000");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Text.Vocabulary.FromJson(json, "huge.json"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "refused before allocating");
        Assert.Contains("word2idx has 4 entries but idx = 2000000000", e.Message);
    }
}
