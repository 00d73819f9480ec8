using CrossModal.Models.Files;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// The pickled vocabulary object of VSE++/VSRN's vocab.py (tests/fixtures/checkpoints/vsrn_vocab, pickled by
/// tools/reference/checkpoint_fixtures.py as vocab.py does: protocol 2, __main__.Vocabulary, byte-string specials)
/// reads as the same words and ids as the SCAN JSON of the same vocabulary; JSON still reads as before.
/// </summary>
public sealed class VocabularyFileTests
{
    [Fact]
    public void Should_ReadThePickledVocabulary_AsTheSameWordsAsItsJson()
    {
        var pickled = VocabularyFile.Load(TestData.Fixture("checkpoints", "vsrn_vocab", "f8k_precomp_vocab.pkl"));
        var json = Vocabulary.Load(TestData.Path("vocab", "f8k_precomp_vocab.json"));
        Assert.Equal(3159, pickled.Count);
        Assert.Equal(Enumerable.Range(0, json.Count).Select(json.WordOf), Enumerable.Range(0, pickled.Count).Select(pickled.WordOf));
        Assert.Equal(json.Count, VocabularyFile.Load(TestData.Path("vocab", "f8k_precomp_vocab.json")).Count);
    }

    [Fact]
    public void Should_RefuseAPickleThatIsNotAVocabulary_NamingTheFile()
    {
        using var folder = new TempFolder();
        string pkl = folder.File("not_vocab.pkl");
        File.WriteAllBytes(pkl, [0x80, 0x02, (byte)']', (byte)'.']); // protocol 2: an empty list
        var e = Assert.Throws<InvalidDataException>(() => VocabularyFile.Load(pkl));
        Assert.StartsWith($"{pkl}: expected a pickled Vocabulary", e.Message);
    }
}
