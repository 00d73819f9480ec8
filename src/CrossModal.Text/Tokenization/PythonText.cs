using System.Globalization;
using System.Text;

namespace CrossModal.Text.Tokenization;

/// <summary>
/// Python 3 string semantics that NLTK relies on and .NET does not share exactly: <c>str.isspace</c> (which also
/// counts U+001C..U+001F), <c>strip</c>/<c>rstrip</c>/<c>split()</c> built on it, <c>str.lower</c> (full case
/// mapping: U+0130 becomes "i" + U+0307, a final capital sigma becomes U+03C2), and the regex classes <c>\s</c>,
/// <c>\w</c> as Python's <c>re</c> defines them for str patterns.
/// </summary>
/// <remarks>
/// Python works on code points, .NET on UTF-16 units: a letter or digit outside the Basic Multilingual Plane is a
/// word character for Python's <c>\w</c> but not for the classes below. Captions essentially never contain such
/// characters (emoji, which are symbols, behave the same in both).
/// </remarks>
internal static class PythonText
{
    /// <summary>Python's <c>\s</c> for str patterns (= <c>str.isspace</c>): .NET's <c>\s</c> plus U+001C..U+001F.</summary>
    public const string Space = @"[\s\x1C-\x1F]";

    /// <summary>Python's <c>\S</c>.</summary>
    public const string NonSpace = @"[^\s\x1C-\x1F]";

    /// <summary>Python's <c>\w</c> for str patterns (letters, all numbers, underscore; no combining marks).</summary>
    public const string Word = @"[\p{L}\p{N}_]";

    /// <summary>Python's <c>\W</c>.</summary>
    public const string NonWord = @"[^\p{L}\p{N}_]";

    /// <summary><c>str.isspace</c> for one character.</summary>
    public static bool IsSpace(char c) => c switch
    {
        >= '\t' and <= '\r' => true,
        >= '\x1C' and <= ' ' => true,
        '\x85' or '\xA0' or '\u1680' or '\u2028' or '\u2029' or '\u202F' or '\u205F' or '\u3000' => true,
        >= '\u2000' and <= '\u200A' => true,
        _ => false,
    };

    /// <summary>Python's <c>\w</c> for one character.</summary>
    public static bool IsWord(char c)
    {
        if (c < 128) return (uint)(c - 'a') < 26 || (uint)(c - 'A') < 26 || (uint)(c - '0') < 10 || c == '_';
        var cat = char.GetUnicodeCategory(c);
        return cat <= UnicodeCategory.OtherLetter || (cat >= UnicodeCategory.DecimalDigitNumber && cat <= UnicodeCategory.OtherNumber);
    }

    /// <summary>Python's <c>\w</c> for one code point.</summary>
    public static bool IsWord(Rune r)
    {
        if (r.IsBmp) return IsWord((char)r.Value);
        var cat = Rune.GetUnicodeCategory(r);
        return cat <= UnicodeCategory.OtherLetter || (cat >= UnicodeCategory.DecimalDigitNumber && cat <= UnicodeCategory.OtherNumber);
    }

    /// <summary>
    /// <c>str.isupper()</c> of one code point: the Unicode Uppercase property (Lu plus Other_Uppercase such as
    /// circled capitals and Roman numerals), not just category Lu.
    /// </summary>
    public static bool IsUpper(Rune r)
    {
        if (Rune.IsUpper(r)) return true;
        int c = r.Value;
        return c is >= 0x2160 and <= 0x216F or >= 0x24B6 and <= 0x24CF or >= 0x1F130 and <= 0x1F149
            or >= 0x1F150 and <= 0x1F169 or >= 0x1F170 and <= 0x1F189;
    }

    /// <summary><c>str.islower()</c> of one code point: the Unicode Lowercase property (Ll plus Other_Lowercase).</summary>
    public static bool IsLower(Rune r)
    {
        if (Rune.IsLower(r)) return true;
        int c = r.Value;
        return c is 0xAA or 0xBA or >= 0x2B0 and <= 0x2B8 or 0x2C0 or 0x2C1 or >= 0x2E0 and <= 0x2E4 or 0x345 or 0x37A
            or >= 0x1D2C and <= 0x1D6A or 0x1D78 or >= 0x1D9B and <= 0x1DBF or 0x2071 or 0x207F or >= 0x2090 and <= 0x209C
            or >= 0x2170 and <= 0x217F or >= 0x24D0 and <= 0x24E9 or 0x2C7C or 0x2C7D or 0xA69C or 0xA69D or 0xA770
            or 0xA7F8 or 0xA7F9 or >= 0xAB5C and <= 0xAB5F or 0x10780 or >= 0x10783 and <= 0x10785
            or >= 0x10787 and <= 0x107B0 or >= 0x107B2 and <= 0x107BA;
    }

    /// <summary><c>str.strip()</c>.</summary>
    public static string Strip(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsSpace(s[start])) start++;
        while (end > start && IsSpace(s[end - 1])) end--;
        return start == 0 && end == s.Length ? s : s[start..end];
    }

    /// <summary>Length of <c>s.rstrip()</c>.</summary>
    public static int RStripLength(string s)
    {
        int end = s.Length;
        while (end > 0 && IsSpace(s[end - 1])) end--;
        return end;
    }

    /// <summary><c>str.split()</c> without arguments: runs of whitespace separate, empty pieces are dropped.</summary>
    public static void SplitWhitespace(string s, List<string> output)
    {
        int i = 0, n = s.Length;
        while (true)
        {
            while (i < n && IsSpace(s[i])) i++;
            if (i >= n) return;
            int start = i;
            while (i < n && !IsSpace(s[i])) i++;
            output.Add(s[start..i]);
        }
    }

    /// <summary>
    /// <c>str.lower()</c>: .NET's invariant simple case mapping, except U+0130 (Python: "i" + U+0307) and the
    /// capital sigma at the end of a word (Python: final sigma U+03C2).
    /// </summary>
    public static string Lower(string s)
    {
        bool ascii = true;
        foreach (char c in s)
        {
            if (c >= 128) { ascii = false; break; }
        }
        string lowered = s.ToLowerInvariant();
        if (ascii || (s.IndexOf('\u0130') < 0 && s.IndexOf('\u03A3') < 0)) return lowered;
        var sb = new StringBuilder(s.Length + 4);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '\u0130') sb.Append("i\u0307");
            else if (c == '\u03A3') sb.Append(IsFinalSigma(s, i) ? '\u03C2' : '\u03C3');
            else sb.Append(lowered[i]);
        }
        return sb.ToString();
    }

    // Unicode's Final_Sigma condition: a cased letter before (skipping case-ignorable characters) and no cased
    // letter after. Case-ignorable is approximated by the categories Mn, Me, Cf, Lm, Sk and the apostrophe,
    // period, colon and middle dot (Word_Break MidLetter/MidNumLet/Single_Quote), which covers real text.
    private static bool IsFinalSigma(string s, int index)
    {
        int j = index;
        Rune r = default;
        while (j > 0 && Rune.DecodeLastFromUtf16(s.AsSpan(0, j), out r, out int n) == System.Buffers.OperationStatus.Done && IsCaseIgnorable(r)) j -= n;
        if (j == 0 || !IsCased(r)) return false;
        j = index + 1;
        while (j < s.Length && Rune.DecodeFromUtf16(s.AsSpan(j), out r, out int n) == System.Buffers.OperationStatus.Done && IsCaseIgnorable(r)) j += n;
        return j >= s.Length || !IsCased(r);
    }

    // Cased = Lu, Ll, Lt, Other_Uppercase, Other_Lowercase.
    private static bool IsCased(Rune r)
    {
        var cat = Rune.GetUnicodeCategory(r);
        return cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            || IsUpper(r) || IsLower(r);
    }

    private static bool IsCaseIgnorable(Rune r)
    {
        int c = r.Value;
        if (c is '\'' or '.' or ':' or '\u00B7' or '\u2019' or '\u2018' or '\u2024' or '\uFE52' or '\uFF07' or '\uFF0E') return true;
        var cat = Rune.GetUnicodeCategory(r);
        return cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
    }
}
