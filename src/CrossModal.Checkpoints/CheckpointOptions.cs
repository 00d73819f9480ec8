using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using CrossModal.Checkpoints.Python;
using CrossModal.Checkpoints.Torch;

namespace CrossModal.Checkpoints;

/// <summary>
/// A checkpoint's options (the original command line stored as <c>opt</c>): name -> value, where a value is
/// null, <see cref="bool"/>, <see cref="long"/>, <see cref="double"/>, <see cref="string"/>, a list
/// (<see cref="IReadOnlyList{T}"/> of values) or a nested <see cref="IReadOnlyDictionary{TKey,TValue}"/>. Other
/// Python values (bytes, tensors) are kept as a short description string. Typed getters convert the way the
/// Python code would use the value (an int is a valid float; 0/1 are valid bools) and otherwise fail with one
/// message naming the source, the option, what was expected and what was found. Getters with a default serve
/// options that older checkpoints lack (VSE++'s <c>opt</c> has no <c>bi_gru</c>).
/// </summary>
public sealed class CheckpointOptions : IReadOnlyDictionary<string, object?>
{
    private const int MaxDepth = 32;

    private readonly List<string> _names = new();
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);

    /// <summary>Options from name/value pairs (values as listed in the class summary).</summary>
    public CheckpointOptions(IEnumerable<KeyValuePair<string, object?>> values, string source = "options")
    {
        Source = source;
        foreach (var (name, value) in values)
        {
            if (!_values.ContainsKey(name)) _names.Add(name);
            _values[name] = Normalize(value, 0, source, name);
        }
    }

    /// <summary>Where the options came from, for messages.</summary>
    public string Source { get; }

    /// <inheritdoc/>
    public object? this[string key] => _values.TryGetValue(key, out var v) ? v : throw Missing(key);

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _names;

    /// <inheritdoc/>
    public IEnumerable<object?> Values => _names.Select(n => _values[n]);

    /// <inheritdoc/>
    public int Count => _names.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _values.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, out object? value) => _values.TryGetValue(key, out value);

    /// <summary>A string option.</summary>
    public string GetString(string name) => AsString(name, this[name]);

    /// <summary>A string option, or <paramref name="fallback"/> when absent.</summary>
    public string GetString(string name, string fallback) => _values.TryGetValue(name, out var v) ? AsString(name, v) : fallback;

    /// <summary>An integer option (fits in an int).</summary>
    public int GetInt(string name) => AsInt(name, this[name]);

    /// <summary>An integer option, or <paramref name="fallback"/> when absent.</summary>
    public int GetInt(string name, int fallback) => _values.TryGetValue(name, out var v) ? AsInt(name, v) : fallback;

    /// <summary>A float option (integers are accepted, as in Python arithmetic).</summary>
    public double GetDouble(string name) => AsDouble(name, this[name]);

    /// <summary>A float option, or <paramref name="fallback"/> when absent.</summary>
    public double GetDouble(string name, double fallback) => _values.TryGetValue(name, out var v) ? AsDouble(name, v) : fallback;

    /// <summary>A boolean option (True/False, or the integers 0/1).</summary>
    public bool GetBool(string name) => AsBool(name, this[name]);

    /// <summary>A boolean option, or <paramref name="fallback"/> when absent.</summary>
    public bool GetBool(string name, bool fallback) => _values.TryGetValue(name, out var v) ? AsBool(name, v) : fallback;

    /// <summary>A copy with <paramref name="name"/> set to <paramref name="value"/>.</summary>
    public CheckpointOptions With(string name, object? value)
    {
        var pairs = _names.Select(n => new KeyValuePair<string, object?>(n, _values[n])).ToList();
        int i = _names.IndexOf(name);
        if (i >= 0) pairs[i] = new(name, value);
        else pairs.Add(new(name, value));
        return new CheckpointOptions(pairs, Source);
    }

    /// <summary>
    /// The options as one JSON object (what the safetensors checkpoint stores under <c>opt</c>): integers stay
    /// integers, floats always carry a decimal point or exponent so Python reads them back as floats.
    /// </summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            WriteValue(w, new Dictionary<string, object?>(this.Select(kv => kv)), 0);
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Options from a JSON object (see <see cref="ToJson"/>); a malformed text is an <see cref="InvalidDataException"/>.</summary>
    public static CheckpointOptions FromJson(string json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: options are not valid JSON: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: options are not a JSON object.");
            var pairs = doc.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, FromJsonElement(p.Value))).ToList();
            return new CheckpointOptions(pairs, source);
        }
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() =>
        _names.Select(n => new KeyValuePair<string, object?>(n, _values[n])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => $"{Source}: {Count} options";

    /// <summary>Options from a loaded argparse.Namespace (or a dict with string keys).</summary>
    internal static CheckpointOptions FromPython(object? value, string source)
    {
        IEnumerable<KeyValuePair<string, object?>> pairs = value switch
        {
            PyNamespace ns => ns,
            PyDict d => d.Select(kv => kv.Key is string k ? new KeyValuePair<string, object?>(k, kv.Value)
                : throw new InvalidDataException($"{source}: option name {PyValue.Describe(kv.Key)} is not a string.")).ToList(),
            _ => throw new InvalidDataException($"{source} is a {PyValue.TypeName(value)}, expected an argparse.Namespace of options."),
        };
        return new CheckpointOptions(pairs, source);
    }

    private static object? Normalize(object? value, int depth, string source, string name)
    {
        if (depth > MaxDepth) throw new InvalidDataException($"{source}: option '{name}' is nested deeper than {MaxDepth} levels.");
        switch (value)
        {
            case null or bool or long or double or string: return value;
            case int i: return (long)i;
            case float f: return (double)f;
            case BigInteger big: return big >= long.MinValue && big <= long.MaxValue ? (long)big : (object)(double)big;
            case PyList or PyTuple or PySet:
                return ((IEnumerable<object?>)value).Select(v => Normalize(v, depth + 1, source, name)).ToList().AsReadOnly();
            case PyNamespace ns:
                return ns.ToDictionary(kv => kv.Key, kv => Normalize(kv.Value, depth + 1, source, name), StringComparer.Ordinal);
            case PyDict d:
            {
                var result = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (k, v) in d) result[k as string ?? PyValue.Describe(k)] = Normalize(v, depth + 1, source, name);
                return result;
            }
            case IReadOnlyDictionary<string, object?> dict:
                return dict.ToDictionary(kv => kv.Key, kv => Normalize(kv.Value, depth + 1, source, name), StringComparer.Ordinal);
            case IEnumerable<object?> list:
                return list.Select(v => Normalize(v, depth + 1, source, name)).ToList().AsReadOnly();
            case byte[] bytes: return Encoding.Latin1.GetString(bytes);
            case TorchTensor t: return $"<{t}>";
            default: return PyValue.Describe(value);
        }
    }

    private InvalidDataException Missing(string name) =>
        new($"{Source}: option '{name}' is missing (options: {string.Join(", ", _names.Take(40))}{(_names.Count > 40 ? ", ..." : "")}).");

    private InvalidDataException Wrong(string name, object? value, string expected) =>
        new($"{Source}: option '{name}' is {Describe(value)}, expected {expected}.");

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"the string '{s}'",
        bool b => b ? "True" : "False",
        long l => $"the integer {l}",
        double d => $"the float {d.ToString("R", CultureInfo.InvariantCulture)}",
        IReadOnlyList<object?> l => $"a list of {l.Count}",
        _ => $"a {value.GetType().Name}",
    };

    private string AsString(string name, object? v) => v as string ?? throw Wrong(name, v, "a string");

    private int AsInt(string name, object? v) => v switch
    {
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        _ => throw Wrong(name, v, "an integer"),
    };

    private double AsDouble(string name, object? v) => v switch
    {
        double d => d,
        long l => l,
        _ => throw Wrong(name, v, "a number"),
    };

    private bool AsBool(string name, object? v) => v switch
    {
        bool b => b,
        0L => false,
        1L => true,
        _ => throw Wrong(name, v, "True or False"),
    };

    private static void WriteValue(Utf8JsonWriter w, object? value, int depth)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case bool b: w.WriteBooleanValue(b); break;
            case long l: w.WriteNumberValue(l); break;
            case double d: w.WriteRawValue(FormatDouble(d), skipInputValidation: true); break;
            case string s: w.WriteStringValue(s); break;
            case IReadOnlyDictionary<string, object?> dict:
                w.WriteStartObject();
                foreach (var (k, v) in dict)
                {
                    w.WritePropertyName(k);
                    WriteValue(w, v, depth + 1);
                }
                w.WriteEndObject();
                break;
            case IEnumerable<object?> list:
                w.WriteStartArray();
                foreach (var v in list) WriteValue(w, v, depth + 1);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(value.ToString()); break;
        }
    }

    /// <summary>Python's json.dumps spelling: "6.0" not "6", NaN/Infinity as Python writes them.</summary>
    private static string FormatDouble(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "Infinity";
        if (double.IsNegativeInfinity(d)) return "-Infinity";
        string s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') || s.Contains('e') ? s : s + ".0";
    }

    private static object? FromJsonElement(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => IsIntegerLiteral(e.GetRawText()) && e.TryGetInt64(out long l) ? (object)l : e.GetDouble(),
        JsonValueKind.Array => e.EnumerateArray().Select(FromJsonElement).ToList().AsReadOnly(),
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => FromJsonElement(p.Value), StringComparer.Ordinal),
        _ => null,
    };

    private static bool IsIntegerLiteral(string raw) => raw.IndexOfAny(['.', 'e', 'E']) < 0;
}
