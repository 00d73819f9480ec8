using System.Text;

namespace CrossModal.Text;

/// <summary>
/// JSON text exactly as Python's <c>json.dumps</c> writes it with default separators (<c>", "</c> and
/// <c>": "</c>), so files we write can be compared byte for byte with files written by the originals.
/// </summary>
public static class PythonJson
{
    /// <summary>
    /// Appends <paramref name="value"/> as a JSON string literal: quote, backslash and control characters
    /// escaped as Python does (<c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\b</c>, <c>\f</c>, else <c>\u00xx</c>); with
    /// <paramref name="ensureAscii"/> every UTF-16 unit above U+007E (DEL included) becomes <c>\uxxxx</c> (lower-case hex).
    /// </summary>
    public static void AppendString(StringBuilder sb, string value, bool ensureAscii)
    {
        sb.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7E))
                        sb.Append("\\u").Append(((int)c).ToString("x4"));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>A list of strings as <c>json.dumps(list, ensure_ascii=...)</c> writes it: <c>["a", "b"]</c>.</summary>
    public static string StringArray(IReadOnlyList<string> values, bool ensureAscii = false)
    {
        var sb = new StringBuilder(values.Count * 8 + 2);
        sb.Append('[');
        for (int i = 0; i < values.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            AppendString(sb, values[i], ensureAscii);
        }
        return sb.Append(']').ToString();
    }
}
