using System.Text;
using CrossModal.Tests;

namespace CrossModal.Text.Tests.Vocabulary;

/// <summary>
/// NAAF's GloVe vocabulary layout ({"word2idx", "char_level", "max_len"}; &lt;pad&gt; 0, &lt;unk&gt; 1, &lt;start&gt; 2,
/// &lt;end&gt; 3) against files Python's json.dump wrote in that layout (tools/reference: naaf_fixtures.py make_glove,
/// checkpoint_fixtures.py naaf_glove): byte-for-byte round trips, the special ids, encoding, and one clear error for
/// each way such a file can be wrong.
/// </summary>
public sealed class GloveVocabularyTests
{
    [Theory]
    [InlineData("naaf", "glove", "f30k_precomp.json", 16)]
    [InlineData("checkpoints", "naaf_glove", "f8k_precomp.json", 3159)]
    public void Should_RoundTripNaafsGloveVocabulary_ByteForByte(string folder, string sub, string file, int size)
    {
        string path = TestData.Fixture(folder, sub, file);
        var v = Text.Vocabulary.Load(path);
        Assert.Equal(size, v.Count);
        Assert.True(v.IsGloveLayout);
        Assert.Equal((1, 2, 3), (v.UnkId, v.StartId, v.EndId));
        Assert.Equal(File.ReadAllBytes(path), Encoding.UTF8.GetBytes(v.ToJson()));
    }

    [Fact]
    public void Should_EncodeCaptions_WithTheGloveLayoutsSpecialIds()
    {
        var v = Text.Vocabulary.Load(TestData.Fixture("naaf", "glove", "f30k_precomp.json"));
        // word2idx: a 4, man 5; "juggles" is not in it.
        Assert.Equal(new[] { 2, 4, 5, 1, 3 }, v.Encode("A man juggles"));
        Assert.Equal(1, v.IdOf("juggles"));
    }

    [Theory]
    [InlineData("{\"word2idx\": {\"<pad>\": 0, \"<unk>\": 1, \"<start>\": 2, \"<end>\": 3, \"a\": 4}, \"char_level\": true, \"max_len\": null}", "char_level is true")]
    [InlineData("{\"word2idx\": {\"<pad>\": 0, \"<start>\": 1, \"<end>\": 2, \"<unk>\": 3, \"a\": 4}, \"char_level\": false, \"max_len\": null}", "id 1 is '<start>', expected '<unk>'")]
    [InlineData("{\"word2idx\": {\"<pad>\": 0, \"<unk>\": 1, \"<start>\": 2, \"<end>\": 3, \"a\": 5}, \"char_level\": false, \"max_len\": null}", "word2idx['a'] = 5 is outside 0..4")]
    [InlineData("{\"word2idx\": {\"<pad>\": 0, \"<unk>\": 1, \"<start>\": 2, \"<end>\": 3, \"a\": 4}, \"char_level\": false, \"max_len\": \"x\"}", "max_len must be null or a positive integer")]
    [InlineData("{\"word2idx\": {\"<pad>\": 0, \"<unk>\": 1, \"<start>\": 2, \"<end>\": 3, \"a\": 4}, \"char_level\": false, \"idx\": 5}", "unexpected key 'idx'")]
    public void Should_RefuseABrokenGloveVocabulary_WithOneMessageNamingTheSource(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => Text.Vocabulary.FromJson(json, "v.json"));
        Assert.StartsWith("v.json: ", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
