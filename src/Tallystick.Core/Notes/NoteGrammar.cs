namespace Tallystick.Notes;

/// <summary>
/// The lexical rules of C2SP signed-note shared by signing, verifying and checkpoint parsing: what a key name
/// may contain, what note text may contain, and the one base64 form accepted.
/// </summary>
internal static class NoteGrammar
{
    /// <summary>The prefix of every signature line: U+2014 EM DASH and a space.</summary>
    public const string SignaturePrefix = "\u2014 ";

    /// <summary>Key names are non-empty, with no Unicode spaces, no '+' (it separates vkey fields), no control
    /// characters and no lone surrogates (which have no UTF-8 form).</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0
        && !name.Contains('+', StringComparison.Ordinal)
        && !name.Any(char.IsWhiteSpace)
        && !name.Any(char.IsControl)
        && IndexOfLoneSurrogate(name) < 0;

    /// <summary>Describes why <paramref name="name"/> is not a valid key name, for error messages.</summary>
    public static string DescribeInvalidName(string name) =>
        $"invalid key name \"{name}\": it must be non-empty, without spaces, '+' or control characters";

    /// <summary>Returns why the text is not valid note text, or null when it is. As in golang.org/x/mod's
    /// sumdb/note, the control characters below U+0020 other than '\n' are banned (DEL is allowed), and the text
    /// must be well-formed UTF-16 so that it has a UTF-8 form. Does not require a final newline.</summary>
    public static string? CheckCharacters(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c < 0x20 && c != '\n')
            {
                return $"control character U+{(int)c:X4} at index {i}";
            }
        }
        int surrogate = IndexOfLoneSurrogate(text);
        return surrogate < 0 ? null : $"lone surrogate U+{(int)text[surrogate]:X4} at index {surrogate}";
    }

    /// <summary>Decodes standard padded base64 (RFC 4648 §4), accepting only the canonical encoding: no
    /// whitespace and zero padding bits, so no two texts decode to the same bytes.</summary>
    public static bool TryDecodeBase64(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0 || text.Length % 4 != 0)
        {
            return false;
        }
        var buffer = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, buffer, out int written))
        {
            return false;
        }
        var decoded = buffer[..written];
        if (!string.Equals(Convert.ToBase64String(decoded), text, StringComparison.Ordinal))
        {
            return false;
        }
        bytes = decoded;
        return true;
    }

    private static int IndexOfLoneSurrogate(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return i;
            }
        }
        return -1;
    }
}
