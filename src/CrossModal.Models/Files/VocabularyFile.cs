using System.Text;
using CrossModal.Checkpoints;
using CrossModal.Checkpoints.Python;
using CrossModal.Text;

namespace CrossModal.Models.Files;

/// <summary>
/// Opens a vocabulary in either format the originals ship: SCAN's JSON (<c>*_vocab.json</c>) or the pickled
/// <c>Vocabulary</c> object of VSE++/VSRN's vocab.py (<c>*_vocab.pkl</c>: protocol 2, a <c>__main__.Vocabulary</c>
/// with <c>idx2word</c> (int keys), <c>word2idx</c> and <c>idx</c>; byte or unicode strings). The pickle is read by
/// the restricted unpickler: the class is inert (only its attributes are kept), nothing is executed.
/// </summary>
public static class VocabularyFile
{
    /// <summary>The pickled class vocab.py defines (pickled from its __main__).</summary>
    private static readonly string[] VocabularyClasses = ["__main__.Vocabulary", "vocab.Vocabulary"];

    /// <summary>Loads <paramref name="path"/>: a pickle (it starts with the pickle PROTO opcode 0x80) or SCAN JSON.</summary>
    public static Vocabulary Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: vocabulary file not found.", path);
        using (var fs = File.OpenRead(path))
            if (fs.ReadByte() != 0x80) return Vocabulary.Load(path);
        var loaded = PickleFile.Load(path, VocabularyClasses);
        if (loaded is not PyObject vocab || !vocab.TryGetValue("idx2word", out var idx2wordValue) || idx2wordValue is not PyDict idx2word)
            throw new InvalidDataException($"{path}: expected a pickled Vocabulary with idx2word, word2idx and idx; found {PyValue.Describe(loaded)}.");
        var words = new string?[idx2word.Count];
        foreach (var (key, value) in idx2word)
        {
            if (key is not long id || id < 0 || id >= words.Length)
                throw new InvalidDataException($"{path}: idx2word has the key {PyValue.Describe(key)}; expected the ids 0..{words.Length - 1}.");
            words[id] = Text(value) ?? throw new InvalidDataException($"{path}: idx2word[{id}] is {PyValue.Describe(value)}, not a string.");
        }
        if (vocab.TryGetValue("word2idx", out var w2i) && w2i is PyDict word2idx)
        {
            if (word2idx.Count != words.Length)
                throw new InvalidDataException($"{path}: word2idx has {word2idx.Count} words, idx2word {words.Length}.");
            foreach (var (key, value) in word2idx)
                if (value is not long id || id < 0 || id >= words.Length || words[id] != Text(key))
                    throw new InvalidDataException($"{path}: word2idx[{PyValue.Describe(key)}] = {PyValue.Describe(value)} disagrees with idx2word.");
        }
        try
        {
            return Vocabulary.FromWords(words!);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>A Python str, or bytes (Python 2 str) decoded as UTF-8; null for anything else.</summary>
    private static string? Text(object? value) => value switch
    {
        string s => s,
        byte[] b => Encoding.UTF8.GetString(b),
        _ => null,
    };
}
