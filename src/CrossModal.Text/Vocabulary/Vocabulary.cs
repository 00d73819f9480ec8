using System.Globalization;
using System.Text;
using System.Text.Json;
using CrossModal.Tensors.IO;

namespace CrossModal.Text;

/// <summary>
/// A vocabulary in either JSON layout the originals ship:
/// <list type="bullet">
/// <item>SCAN's (<c>*_vocab.json</c>): <c>word2idx</c> (word to id), <c>idx2word</c> (id as a string to word) and
/// <c>idx</c> (the size); <c>&lt;pad&gt;</c>=0, <c>&lt;start&gt;</c>=1, <c>&lt;end&gt;</c>=2, <c>&lt;unk&gt;</c>=3,
/// real words from 4 on;</item>
/// <item>NAAF's GloVe vocabulary (<c>f30k_precomp.json</c>, <c>coco_precomp.json</c>; retrieval.pytorch's Tokenizer):
/// <c>word2idx</c>, <c>char_level</c> and <c>max_len</c>; <c>&lt;pad&gt;</c>=0, <c>&lt;unk&gt;</c>=1,
/// <c>&lt;start&gt;</c>=2, <c>&lt;end&gt;</c>=3. NAAF's deserialize_vocab reads only word2idx (char_level and
/// max_len are kept, not used), so captions are encoded the same way with these ids.</item>
/// </list>
/// Files written by the originals (Python's <c>json.dump</c>) load and save back byte for byte: the order of keys in
/// the maps and at the top level is kept, and the text is written as <c>json.dump</c> writes it (separators
/// <c>", "</c>/<c>": "</c>, non-ASCII escaped). Immutable and thread-safe.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>Id of <c>&lt;pad&gt;</c> (also the padding value of token batches), in both layouts.</summary>
    public const int Pad = 0;

    /// <summary>Id of <c>&lt;start&gt;</c> in the SCAN layout (a vocabulary's own: <see cref="StartId"/>).</summary>
    public const int Start = 1;

    /// <summary>Id of <c>&lt;end&gt;</c> in the SCAN layout (a vocabulary's own: <see cref="EndId"/>).</summary>
    public const int End = 2;

    /// <summary>Id of <c>&lt;unk&gt;</c> in the SCAN layout (a vocabulary's own: <see cref="UnkId"/>).</summary>
    public const int Unk = 3;

    /// <summary>The four special words in SCAN's id order.</summary>
    public static IReadOnlyList<string> SpecialWords { get; } = ["<pad>", "<start>", "<end>", "<unk>"];

    /// <summary>The four special words in the id order of NAAF's GloVe vocabularies.</summary>
    public static IReadOnlyList<string> GloveSpecialWords { get; } = ["<pad>", "<unk>", "<start>", "<end>"];

    private readonly string[] _words;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanIds;

    // How the JSON text is laid out, so that Save reproduces a loaded file.
    private readonly string[] _word2idxOrder;
    private readonly string[] _idx2wordKeys;
    private readonly string[] _topLevelOrder;
    private readonly Dictionary<string, string> _otherKeys; // NAAF layout: char_level and max_len, as written
    private readonly bool _trailingNewline;

    private Vocabulary(string[] words, string[] word2idxOrder, string[] idx2wordKeys, string[] topLevelOrder, bool trailingNewline,
        Dictionary<string, string>? otherKeys = null)
    {
        _words = words;
        _ids = new Dictionary<string, int>(words.Length, StringComparer.Ordinal);
        for (int i = 0; i < words.Length; i++) _ids[words[i]] = i;
        _spanIds = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        _word2idxOrder = word2idxOrder;
        _idx2wordKeys = idx2wordKeys;
        _topLevelOrder = topLevelOrder;
        _trailingNewline = trailingNewline;
        _otherKeys = otherKeys ?? new Dictionary<string, string>();
        StartId = _ids["<start>"];
        EndId = _ids["<end>"];
        UnkId = _ids["<unk>"];
    }

    /// <summary>Id of <c>&lt;start&gt;</c>, first id of every encoded caption (1 in SCAN's layout, 2 in NAAF's GloVe layout).</summary>
    public int StartId { get; }

    /// <summary>Id of <c>&lt;end&gt;</c>, last id of every encoded caption (2 in SCAN's layout, 3 in NAAF's GloVe layout).</summary>
    public int EndId { get; }

    /// <summary>Id of <c>&lt;unk&gt;</c>, given to words not in the vocabulary (3 in SCAN's layout, 1 in NAAF's GloVe layout).</summary>
    public int UnkId { get; }

    /// <summary>True for NAAF's GloVe layout (word2idx, char_level, max_len).</summary>
    public bool IsGloveLayout => _idx2wordKeys.Length == 0;

    /// <summary>Number of entries including the four special words (SCAN's <c>idx</c>).</summary>
    public int Count => _words.Length;

    /// <summary>All words in id order.</summary>
    public IReadOnlyList<string> Words => _words;

    /// <summary>The id of <paramref name="word"/>, or <see cref="UnkId"/> when absent.</summary>
    public int IdOf(string word) => _ids.TryGetValue(word, out int id) ? id : UnkId;

    /// <summary>The id of <paramref name="word"/>, or <see cref="UnkId"/> when absent (no allocation).</summary>
    public int IdOf(ReadOnlySpan<char> word) => _spanIds.TryGetValue(word, out int id) ? id : UnkId;

    /// <summary>True when <paramref name="word"/> has its own id.</summary>
    public bool Contains(string word) => _ids.ContainsKey(word);

    /// <summary>The word with id <paramref name="id"/>.</summary>
    public string WordOf(int id)
    {
        if ((uint)id >= (uint)_words.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Vocabulary ids are 0..{_words.Length - 1}.");
        return _words[id];
    }

    /// <summary>
    /// Encodes a caption as the originals do: strip, lower-case, NLTK word_tokenize, then
    /// <c>[&lt;start&gt;] + ids + [&lt;end&gt;]</c> with unknown words as <see cref="UnkId"/>.
    /// </summary>
    public int[] Encode(string caption)
    {
        var ids = new List<int>(24);
        Encode(caption, ids);
        return ids.ToArray();
    }

    /// <summary>Appends the encoded caption (see <see cref="Encode(string)"/>) to <paramref name="output"/>.</summary>
    public void Encode(string caption, List<int> output)
    {
        ArgumentNullException.ThrowIfNull(caption);
        output.Add(StartId);
        foreach (var token in WordTokenizer.TokenizeCaption(caption)) output.Add(IdOf(token));
        output.Add(EndId);
    }

    /// <summary>The words of <paramref name="ids"/> joined by spaces (padding dropped), for display.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            if (id == Pad) continue;
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(WordOf(id));
        }
        return sb.ToString();
    }

    /// <summary>
    /// Builds a vocabulary from training captions as SCAN's <c>vocab.py</c> does: each caption is stripped,
    /// lower-cased and tokenized with NLTK word_tokenize; words seen at least <paramref name="threshold"/> times
    /// are added after the four special words, in the order of their first occurrence in
    /// <paramref name="captions"/>. That is the order <c>vocab.py</c> produces on Python 3.7+ (its
    /// <c>Counter</c> iterates in insertion order); the shipped F30K/COCO files were made on Python 2, whose
    /// hash order cannot be reproduced, so load those instead of rebuilding them.
    /// </summary>
    public static Vocabulary Build(IEnumerable<string> captions, int threshold = 4)
    {
        ArgumentNullException.ThrowIfNull(captions);
        if (threshold < 1) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The count threshold must be at least 1.");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var caption in captions)
        {
            foreach (var token in WordTokenizer.TokenizeCaption(caption))
            {
                ref int c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, token, out bool existed);
                if (!existed) order.Add(token);
                c++;
            }
        }
        var words = new List<string>(SpecialWords);
        var seen = new HashSet<string>(SpecialWords, StringComparer.Ordinal);
        foreach (var w in order)
            if (counts[w] >= threshold && seen.Add(w)) words.Add(w);
        return FromWords(words);
    }

    /// <summary>
    /// A vocabulary from words in id order; the first four must be the special words. Saved in the layout of
    /// the shipped files (<c>idx2word</c>, <c>word2idx</c>, <c>idx</c>; both maps in id order).
    /// </summary>
    public static Vocabulary FromWords(IEnumerable<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var list = words.ToArray();
        for (int i = 0; i < SpecialWords.Count; i++)
            if (list.Length <= i || list[i] != SpecialWords[i])
                throw new ArgumentException($"A SCAN vocabulary starts with {string.Join(", ", SpecialWords)}; entry {i} is '{(list.Length > i ? list[i] : "(missing)")}'.", nameof(words));
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        foreach (var w in list)
            if (!distinct.Add(w)) throw new ArgumentException($"The word '{w}' appears twice.", nameof(words));
        var keys = new string[list.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = i.ToString(CultureInfo.InvariantCulture);
        return new Vocabulary(list, (string[])list.Clone(), keys, ["idx2word", "word2idx", "idx"], trailingNewline: false);
    }

    /// <summary>Loads a SCAN JSON vocabulary; errors name the file and what is wrong.</summary>
    public static Vocabulary Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: vocabulary file not found.", path);
        return FromJson(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses SCAN JSON text; <paramref name="sourceName"/> names the source in errors.</summary>
    public static Vocabulary FromJson(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        return FromJson(Encoding.UTF8.GetBytes(json), sourceName);
    }

    private static Vocabulary FromJson(byte[] utf8, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}); expected a SCAN vocabulary {{\"word2idx\": ..., \"idx2word\": ..., \"idx\": N}} or NAAF's GloVe vocabulary {{\"word2idx\": ..., \"char_level\": false, \"max_len\": null}}.", e);
        }
        using (doc)
        try
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}: expected a JSON object with word2idx, idx2word and idx; found a {root.ValueKind}.");
            if (root.TryGetProperty("char_level", out _) || root.TryGetProperty("max_len", out _))
                return FromGloveJson(root, source, utf8.Length > 0 && utf8[^1] == (byte)'\n');
            var top = new List<string>();
            JsonElement? word2idx = null, idx2word = null, idx = null;
            foreach (var p in root.EnumerateObject())
            {
                if (top.Contains(p.Name)) throw new InvalidDataException($"{source}: the key '{p.Name}' appears twice.");
                top.Add(p.Name);
                switch (p.Name)
                {
                    case "word2idx": word2idx = p.Value; break;
                    case "idx2word": idx2word = p.Value; break;
                    case "idx": idx = p.Value; break;
                    default: throw new InvalidDataException($"{source}: unexpected key '{p.Name}' (a SCAN vocabulary has word2idx, idx2word and idx).");
                }
            }
            if (word2idx is null || idx2word is null || idx is null)
            {
                var missing = new[] { ("word2idx", word2idx), ("idx2word", idx2word), ("idx", idx) }.Where(t => t.Item2 is null).Select(t => t.Item1);
                throw new InvalidDataException($"{source}: missing {string.Join(", ", missing)} (a SCAN vocabulary has word2idx, idx2word and idx).");
            }
            if (word2idx.Value.ValueKind != JsonValueKind.Object || idx2word.Value.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}: word2idx and idx2word must be JSON objects.");
            if (idx.Value.ValueKind != JsonValueKind.Number || !idx.Value.TryGetInt32(out int size) || size < SpecialWords.Count)
                throw new InvalidDataException($"{source}: idx must be the vocabulary size (an integer >= 4); found {idx.Value.GetRawText()}.");

            // The arrays below are sized by idx: check it against the entries present before allocating.
            int entries = word2idx.Value.GetPropertyCount();
            if (entries != size)
                throw new InvalidDataException($"{source}: word2idx has {entries} entries but idx = {size}; the ids must be 0..idx-1 without gaps.");
            var words = new string?[size];
            var w2iOrder = new List<string>(size);
            var w2i = new Dictionary<string, int>(size, StringComparer.Ordinal);
            foreach (var p in word2idx.Value.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id))
                    throw new InvalidDataException($"{source}: word2idx['{p.Name}'] must be an integer id; found {p.Value.GetRawText()}.");
                if ((uint)id >= (uint)size)
                    throw new InvalidDataException($"{source}: word2idx['{p.Name}'] = {id} is outside 0..{size - 1} (idx = {size}).");
                if (!w2i.TryAdd(p.Name, id)) throw new InvalidDataException($"{source}: word2idx lists '{p.Name}' twice.");
                if (words[id] is not null) throw new InvalidDataException($"{source}: word2idx gives id {id} to both '{words[id]}' and '{p.Name}'.");
                words[id] = p.Name;
                w2iOrder.Add(p.Name);
            }
            if (w2i.Count != size)
                throw new InvalidDataException($"{source}: word2idx has {w2i.Count} entries but idx = {size}; the ids must be 0..idx-1 without gaps.");

            var keys = new List<string>(size);
            var seenIds = new HashSet<int>();
            foreach (var p in idx2word.Value.EnumerateObject())
            {
                if (!int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || (uint)id >= (uint)size)
                    throw new InvalidDataException($"{source}: idx2word key '{p.Name}' is not an id in 0..{size - 1}.");
                if (!seenIds.Add(id)) throw new InvalidDataException($"{source}: idx2word lists id {id} twice.");
                if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString() != words[id])
                    throw new InvalidDataException($"{source}: idx2word['{p.Name}'] = {p.Value.GetRawText()} but word2idx gives id {id} to '{words[id]}'.");
                keys.Add(p.Name);
            }
            if (keys.Count != size)
                throw new InvalidDataException($"{source}: idx2word has {keys.Count} entries but idx = {size}.");
            for (int i = 0; i < SpecialWords.Count; i++)
                if (words[i] != SpecialWords[i])
                    throw new InvalidDataException($"{source}: id {i} is '{words[i]}', expected '{SpecialWords[i]}' (SCAN layout: <pad>=0, <start>=1, <end>=2, <unk>=3).");

            bool trailingNewline = utf8.Length > 0 && utf8[^1] == (byte)'\n';
            return new Vocabulary(words!, w2iOrder.ToArray(), keys.ToArray(), top.ToArray(), trailingNewline);
        }
        catch (InvalidOperationException e)
        {
            // JsonDocument checks a string's bytes only when it is read: invalid UTF-8, or an escaped lone surrogate.
            throw new InvalidDataException($"{source}: a word or key is not valid text ({e.Message}); a SCAN vocabulary is UTF-8 JSON.", e);
        }
    }

    /// <summary>
    /// NAAF's GloVe vocabulary: word2idx with the ids 0..n-1 and &lt;pad&gt; 0, &lt;unk&gt; 1, &lt;start&gt; 2,
    /// &lt;end&gt; 3 (as NAAF's f30k_precomp.json and coco_precomp.json), char_level and max_len (kept as written).
    /// </summary>
    private static Vocabulary FromGloveJson(JsonElement root, string source, bool trailingNewline)
    {
        const string Layout = "NAAF's GloVe vocabulary has word2idx, char_level and max_len";
        var top = new List<string>();
        var other = new Dictionary<string, string>();
        JsonElement? word2idx = null;
        foreach (var p in root.EnumerateObject())
        {
            if (top.Contains(p.Name)) throw new InvalidDataException($"{source}: the key '{p.Name}' appears twice.");
            top.Add(p.Name);
            switch (p.Name)
            {
                case "word2idx": word2idx = p.Value; break;
                case "char_level":
                    if (p.Value.ValueKind == JsonValueKind.True)
                        throw new InvalidDataException($"{source}: char_level is true; NAAF encodes captions word by word, so its GloVe vocabularies are word-level (char_level false).");
                    if (p.Value.ValueKind != JsonValueKind.False) throw new InvalidDataException($"{source}: char_level must be false; found {p.Value.GetRawText()}.");
                    other[p.Name] = "false";
                    break;
                case "max_len":
                    if (p.Value.ValueKind != JsonValueKind.Null && !(p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out int m) && m > 0))
                        throw new InvalidDataException($"{source}: max_len must be null or a positive integer; found {p.Value.GetRawText()}.");
                    other[p.Name] = p.Value.GetRawText();
                    break;
                default: throw new InvalidDataException($"{source}: unexpected key '{p.Name}' ({Layout}).");
            }
        }
        if (word2idx is not { ValueKind: JsonValueKind.Object } map)
            throw new InvalidDataException($"{source}: {(word2idx is null ? "no word2idx" : "word2idx is not a JSON object")} ({Layout}).");
        int size = map.GetPropertyCount();
        if (size < GloveSpecialWords.Count) throw new InvalidDataException($"{source}: word2idx has {size} entries; it needs at least the four special words.");
        var words = new string?[size];
        var order = new List<string>(size);
        foreach (var p in map.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id))
                throw new InvalidDataException($"{source}: word2idx['{p.Name}'] must be an integer id; found {p.Value.GetRawText()}.");
            if ((uint)id >= (uint)size)
                throw new InvalidDataException($"{source}: word2idx['{p.Name}'] = {id} is outside 0..{size - 1}; the ids must be 0..{size - 1} without gaps (one GloVe row each).");
            if (words[id] is not null) throw new InvalidDataException($"{source}: word2idx gives id {id} to both '{words[id]}' and '{p.Name}'.");
            words[id] = p.Name;
            order.Add(p.Name);
        }
        if (order.Distinct(StringComparer.Ordinal).Count() != order.Count) throw new InvalidDataException($"{source}: word2idx lists a word twice.");
        for (int i = 0; i < GloveSpecialWords.Count; i++)
            if (words[i] != GloveSpecialWords[i])
                throw new InvalidDataException($"{source}: id {i} is '{words[i]}', expected '{GloveSpecialWords[i]}' (NAAF's GloVe layout: <pad>=0, <unk>=1, <start>=2, <end>=3).");
        return new Vocabulary(words!, order.ToArray(), [], top.ToArray(), trailingNewline, other);
    }

    /// <summary>
    /// The JSON text (SCAN's layout, or NAAF's GloVe layout for a vocabulary read in it), as Python's <c>json.dump</c> writes it; for a loaded vocabulary the original key order
    /// is kept, so <c>Load(path).ToJson()</c> reproduces a file written by the originals exactly.
    /// </summary>
    public string ToJson()
    {
        var sb = new StringBuilder(_words.Length * 36 + 64);
        sb.Append('{');
        for (int t = 0; t < _topLevelOrder.Length; t++)
        {
            if (t > 0) sb.Append(", ");
            string key = _topLevelOrder[t];
            PythonJson.AppendString(sb, key, ensureAscii: true);
            sb.Append(": ");
            switch (key)
            {
                case "idx2word":
                    sb.Append('{');
                    for (int i = 0; i < _idx2wordKeys.Length; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        PythonJson.AppendString(sb, _idx2wordKeys[i], ensureAscii: true);
                        sb.Append(": ");
                        PythonJson.AppendString(sb, _words[int.Parse(_idx2wordKeys[i], CultureInfo.InvariantCulture)], ensureAscii: true);
                    }
                    sb.Append('}');
                    break;
                case "word2idx":
                    sb.Append('{');
                    for (int i = 0; i < _word2idxOrder.Length; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        PythonJson.AppendString(sb, _word2idxOrder[i], ensureAscii: true);
                        sb.Append(": ").Append(_ids[_word2idxOrder[i]].ToString(CultureInfo.InvariantCulture));
                    }
                    sb.Append('}');
                    break;
                default:
                    sb.Append(_otherKeys.TryGetValue(key, out var raw) ? raw : _words.Length.ToString(CultureInfo.InvariantCulture));
                    break;
            }
        }
        sb.Append('}');
        if (_trailingNewline) sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>Writes the SCAN JSON file atomically (see <see cref="ToJson"/>); ASCII only, so UTF-8 without BOM.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        AtomicFile.WriteAllText(path, ToJson());
    }
}
