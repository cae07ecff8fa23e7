using System.Buffers;
using System.Text;
using System.Text.Json;
using Tallystick.Canonical;

namespace Tallystick.Core.Tests.Canonical;

// Goal: the JCS rules that the golden files do not isolate: string escaping of every control character, UTF-16
// code-unit key order (RFC 8785 §3.2.3), number handling, and the promise that every failure is an
// ArgumentException. Method: small literal inputs with exact expected output, compared as UTF-8 text.
public sealed class JsonCanonicalizerTests
{
    [Fact]
    public void WriteString_EveryControlCharacter_UsesShortOrLowercaseHexEscape()
    {
        for (char c = '\0'; c < ' '; c++)
        {
            string expected = c switch
            {
                '\b' => "\\b",
                '\t' => "\\t",
                '\n' => "\\n",
                '\f' => "\\f",
                '\r' => "\\r",
                _ => $"\\u00{(int)c:x2}",
            };
            Assert.Equal($"\"{expected}\"", WriteString(c.ToString()));
        }
    }

    [Theory]
    [InlineData("\"", "\"\\\"\"")]
    [InlineData("\\", "\"\\\\\"")]
    [InlineData("/", "\"/\"")]
    [InlineData("\u007f", "\"\u007f\"")]
    [InlineData("</script>", "\"</script>\"")]
    [InlineData("€ö\u00a0", "\"€ö\u00a0\"")]
    [InlineData("", "\"\"")]
    public void WriteString_NonControlCharacters_AreRawExceptQuoteAndBackslash(string value, string expected)
    {
        Assert.Equal(expected, WriteString(value));
    }

    [Fact]
    public void WriteString_SurrogatePair_IsFourByteUtf8()
    {
        var buffer = new ArrayBufferWriter<byte>();
        JsonCanonicalizer.WriteString("\ud83d\ude02", buffer);
        Assert.Equal("22f09f988222", Convert.ToHexStringLower(buffer.WrittenSpan));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void WriteString_LongTextWithPairsAcrossSliceBoundaries_MatchesUtf8Encoding(int prefix)
    {
        string value = new string('a', prefix) + string.Concat(Enumerable.Repeat("\ud83d\ude00é\"x", 2000));
        string expected = "\"" + value.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        Assert.Equal(expected, WriteString(value));
    }

    // Facts, not InlineData: theory-data serialisation would replace lone surrogates with U+FFFD.
    [Fact]
    public void WriteString_LoneSurrogate_ThrowsArgumentExceptionAndWritesNothing()
    {
        string[] bad = ["\ud800", "a\udc00", "x\ud83d", "\ude02\ud83d", "\ud83d\ud83d\ude02x\udc00"];
        foreach (var value in bad)
        {
            var buffer = new ArrayBufferWriter<byte>();
            Assert.Throws<ArgumentException>(() => JsonCanonicalizer.WriteString(value, buffer));
            Assert.Equal(0, buffer.WrittenCount);
        }
    }

    [Fact]
    public void Canonicalize_RfcSortingExample_OrdersByUtf16CodeUnits()
    {
        const string input = """
            {"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",
             "\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}
            """;
        using var doc = JsonDocument.Parse(Canonical(input));
        string[] values = [.. doc.RootElement.EnumerateObject().Select(p => p.Value.GetString()!)];
        Assert.Equal(
            ["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign",
                "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"],
            values);
    }

    [Fact]
    public void Canonicalize_PlainKeys_SortShorterPrefixFirst()
    {
        Assert.Equal("""{"":0,"a":1,"aa":2,"ab":3}""", Canonical("""{"ab":3,"aa":2,"a":1,"":0}"""));
    }

    [Theory]
    [InlineData("""  [ 1 , 2.50 , -0 , 1E2 , 1e-7, true , false , null , "s" , [ ] , { } ]  """,
        """[1,2.5,0,100,1e-7,true,false,null,"s",[],{}]""")]
    [InlineData("""{"b":{"d":[{"z":1,"y":2}],"c":null},"a":"\u0041"}""",
        """{"a":"A","b":{"c":null,"d":[{"y":2,"z":1}]}}""")]
    [InlineData("-1.5e-7", "-1.5e-7")]
    [InlineData("\"\\/\"", "\"/\"")]
    public void Canonicalize_Value_MatchesExpected(string input, string expected)
    {
        Assert.Equal(expected, Canonical(input));
    }

    [Theory]
    [InlineData("""{"a":1,"a":2}""")]
    [InlineData("""{"b":{"x":1,"x":1}}""")]
    [InlineData("""{"\u0061":1,"a":2}""")]
    [InlineData("1e400")]
    [InlineData("[-1E999]")]
    [InlineData("\"\\ud800\"")]
    [InlineData("\"a\\udc00b\"")]
    [InlineData("{\"\\ud800\":1}")]
    public void Canonicalize_InvalidForJcs_ThrowsArgumentException(string input)
    {
        using var doc = JsonDocument.Parse(input);
        Assert.ThrowsAny<ArgumentException>(() => JsonCanonicalizer.Canonicalize(doc.RootElement));
    }

    [Theory]
    [InlineData(1000, true)]
    [InlineData(1001, false)]
    public void Canonicalize_DeepNesting_IsBoundedByArgumentException(int depth, bool accepted)
    {
        var json = new string('[', depth) + new string(']', depth);
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 2000 });
        if (accepted)
        {
            Assert.Equal(json, Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(doc.RootElement)));
        }
        else
        {
            Assert.Throws<ArgumentException>(() => JsonCanonicalizer.Canonicalize(doc.RootElement));
        }
    }

    [Fact]
    public void Canonicalize_UndefinedElement_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => JsonCanonicalizer.Canonicalize(default));
    }

    [Fact]
    public void Write_AppendsToExistingContent()
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write("prefix:"u8);
        using var doc = JsonDocument.Parse("""{"b":1,"a":2}""");
        JsonCanonicalizer.Write(doc.RootElement, buffer);
        Assert.Equal("""prefix:{"a":2,"b":1}""", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static string Canonical(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(doc.RootElement));
    }

    private static string WriteString(string value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        JsonCanonicalizer.WriteString(value, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
