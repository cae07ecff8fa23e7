using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Tallystick.Canonical;

/// <summary>
/// RFC 8785 JSON Canonicalization Scheme (JCS): writes a JSON value with no whitespace, object members sorted by
/// the UTF-16 code units of their names (<see cref="string.CompareOrdinal(string, string)"/>, not culture order),
/// strings escaped minimally and numbers in ECMAScript form (<see cref="Es6Number"/>). Equal JSON data therefore
/// has identical bytes, which is what makes it hashable. Unicode is not normalised. Every failure is an
/// <see cref="ArgumentException"/>, so callers that canonicalise untrusted input need catch only that.
/// All members are stateless and thread-safe.
/// </summary>
public static class JsonCanonicalizer
{
    // Strings are encoded in slices so that the scratch span requested from the writer stays small.
    private const int CharsPerSlice = 1024;

    // Recursion is bounded so that a document parsed with a raised MaxDepth cannot overflow the stack, which would
    // kill the process instead of throwing; System.Text.Json's own default limit is 64.
    private const int DepthMax = 1000;

    /// <summary>Returns the canonical UTF-8 bytes of <paramref name="element"/> (no trailing newline).</summary>
    /// <param name="element">Any JSON value; typically from <see cref="JsonDocument"/>.</param>
    /// <returns>A new array holding the canonical form.</returns>
    /// <exception cref="ArgumentException">The value has a duplicate property name, a number outside the double
    /// range, a string with a lone surrogate, nesting deeper than 1000 levels, or is
    /// <see cref="JsonValueKind.Undefined"/>.</exception>
    public static byte[] Canonicalize(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(element, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Appends the canonical UTF-8 form of <paramref name="element"/> to <paramref name="output"/>.</summary>
    /// <param name="element">Any JSON value.</param>
    /// <param name="output">Receives the bytes. On failure it may hold a partial, unusable prefix.</param>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">The value has a duplicate property name, a number outside the double
    /// range, a string with a lone surrogate, nesting deeper than 1000 levels, or is
    /// <see cref="JsonValueKind.Undefined"/>.</exception>
    public static void Write(JsonElement element, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteValue(element, output, depth: 0);
    }

    /// <summary>
    /// Appends <paramref name="value"/> as a canonical JSON string, quotes included: <c>\b \t \n \f \r \" \\</c> use
    /// their short escapes, other characters below U+0020 become <c>\u00xx</c> (lowercase hex), and everything else,
    /// including <c>/</c>, U+007F and non-ASCII, is written as raw UTF-8.
    /// </summary>
    /// <param name="value">The string to write; must be well-formed UTF-16.</param>
    /// <param name="output">Receives the bytes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> or <paramref name="output"/> is
    /// null.</exception>
    /// <exception cref="ArgumentException"><paramref name="value"/> contains a lone surrogate, which has no UTF-8
    /// form; nothing is written in that case.</exception>
    public static void WriteString(string value, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(output);
        int invalid = IndexOfLoneSurrogate(value);
        if (invalid >= 0)
        {
            throw new ArgumentException(
                $"string has a lone surrogate U+{(int)value[invalid]:X4} at index {invalid}", nameof(value));
        }

        WriteByte((byte)'"', output);
        var remaining = value.AsSpan();
        while (remaining.Length > 0)
        {
            int plain = IndexOfEscaped(remaining);
            if (plain < 0)
            {
                plain = remaining.Length;
            }
            WriteUtf8(remaining[..plain], output);
            if (plain == remaining.Length)
            {
                break;
            }
            WriteEscape(remaining[plain], output);
            remaining = remaining[(plain + 1)..];
        }
        WriteByte((byte)'"', output);
    }

    private static void WriteValue(JsonElement element, IBufferWriter<byte> output, int depth)
    {
        if (depth >= DepthMax)
        {
            throw new ArgumentException($"JSON nests deeper than {DepthMax} levels", nameof(element));
        }
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(element, output, depth);
                break;
            case JsonValueKind.Array:
                WriteArray(element, output, depth);
                break;
            case JsonValueKind.String:
                WriteString(ReadString(element), output);
                break;
            case JsonValueKind.Number:
                WriteAscii(FormatNumber(element.GetRawText()), output);
                break;
            case JsonValueKind.True:
                WriteAscii("true", output);
                break;
            case JsonValueKind.False:
                WriteAscii("false", output);
                break;
            case JsonValueKind.Null:
                WriteAscii("null", output);
                break;
            default:
                throw new ArgumentException($"cannot canonicalise a JSON value of kind {element.ValueKind}",
                    nameof(element));
        }
    }

    private static void WriteObject(JsonElement element, IBufferWriter<byte> output, int depth)
    {
        var members = new List<(string Name, JsonElement Value)>();
        foreach (var property in element.EnumerateObject())
        {
            members.Add((ReadName(property), property.Value));
        }
        members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        WriteByte((byte)'{', output);
        for (int i = 0; i < members.Count; i++)
        {
            if (i > 0)
            {
                if (string.Equals(members[i - 1].Name, members[i].Name, StringComparison.Ordinal))
                {
                    throw new ArgumentException(
                        $"duplicate property name \"{members[i].Name}\"", nameof(element));
                }
                WriteByte((byte)',', output);
            }
            WriteString(members[i].Name, output);
            WriteByte((byte)':', output);
            WriteValue(members[i].Value, output, depth + 1);
        }
        WriteByte((byte)'}', output);
    }

    private static void WriteArray(JsonElement element, IBufferWriter<byte> output, int depth)
    {
        WriteByte((byte)'[', output);
        bool first = true;
        foreach (var item in element.EnumerateArray())
        {
            if (!first)
            {
                WriteByte((byte)',', output);
            }
            first = false;
            WriteValue(item, output, depth + 1);
        }
        WriteByte((byte)']', output);
    }

    // RFC 8785 §3.2.2.3: the number is read as an IEEE 754 double first, so precision beyond a double is lost
    // (callers that must not lose digits check Es6Number.IsExactlyRepresentable beforehand).
    private static string FormatNumber(string raw)
    {
        double value = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"number {raw} is outside the range of an IEEE 754 double", nameof(raw));
        }
        return Es6Number.Format(value);
    }

    // System.Text.Json accepts escaped lone surrogates in the document but throws when decoding them; JCS callers
    // are promised ArgumentException only.
    private static string ReadString(JsonElement element)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"string cannot be decoded: {e.Message}", nameof(element), e);
        }
    }

    private static string ReadName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"property name cannot be decoded: {e.Message}", nameof(property), e);
        }
    }

    private static int IndexOfEscaped(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c < 0x20 || c == '"' || c == '\\')
            {
                return i;
            }
        }
        return -1;
    }

    private static int IndexOfLoneSurrogate(string value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return i;
            }
        }
        return -1;
    }

    private static void WriteEscape(char c, IBufferWriter<byte> output)
    {
        string escape = c switch
        {
            '\b' => "\\b",
            '\t' => "\\t",
            '\n' => "\\n",
            '\f' => "\\f",
            '\r' => "\\r",
            '"' => "\\\"",
            '\\' => "\\\\",
            _ => "\\u00" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
        };
        WriteAscii(escape, output);
    }

    // Surrogate pairs were validated up front; a slice never ends between the two halves of a pair.
    private static void WriteUtf8(ReadOnlySpan<char> text, IBufferWriter<byte> output)
    {
        while (text.Length > 0)
        {
            int take = Math.Min(text.Length, CharsPerSlice);
            if (take < text.Length && char.IsHighSurrogate(text[take - 1]))
            {
                take--;
            }
            var slice = text[..take];
            var destination = output.GetSpan(slice.Length * 3);
            var status = Utf8.FromUtf16(slice, destination, out _, out int written, replaceInvalidSequences: false);
            if (status != OperationStatus.Done)
            {
                throw new InvalidOperationException($"UTF-8 encoding stopped with {status}");
            }
            output.Advance(written);
            text = text[take..];
        }
    }

    private static void WriteAscii(string ascii, IBufferWriter<byte> output)
    {
        var destination = output.GetSpan(ascii.Length);
        int written = Encoding.ASCII.GetBytes(ascii, destination);
        output.Advance(written);
    }

    private static void WriteByte(byte value, IBufferWriter<byte> output)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }
}
