namespace Tallystick;

/// <summary>Splits a JSON number literal into sign, significant digits and a decimal exponent, exactly.</summary>
internal static class JsonNumberText
{
    /// <summary>
    /// value = (negative ? -1 : 1) × digits × 10^exponent, where digits has no leading or trailing zeros
    /// (empty for zero). Follows the RFC 8259 number grammar strictly.
    /// </summary>
    public static AmountParseError TryDecompose(
        ReadOnlySpan<byte> text, out bool negative, out string digits, out int exponent)
    {
        negative = false;
        digits = "";
        exponent = 0;
        var i = 0;
        if (i < text.Length && text[i] == (byte)'-')
        {
            negative = true;
            i++;
        }
        var intStart = i;
        while (i < text.Length && IsDigit(text[i]))
        {
            i++;
        }
        var intPart = text[intStart..i];
        if (intPart.Length == 0 || (intPart.Length > 1 && intPart[0] == (byte)'0'))
        {
            return AmountParseError.NotANumber;
        }
        ReadOnlySpan<byte> fracPart = default;
        if (i < text.Length && text[i] == (byte)'.')
        {
            i++;
            var fracStart = i;
            while (i < text.Length && IsDigit(text[i]))
            {
                i++;
            }
            fracPart = text[fracStart..i];
            if (fracPart.Length == 0)
            {
                return AmountParseError.NotANumber;
            }
        }
        long exp = 0;
        if (i < text.Length && (text[i] == (byte)'e' || text[i] == (byte)'E'))
        {
            var error = ParseExponent(text, ref i, out exp);
            if (error != AmountParseError.None)
            {
                return error;
            }
        }
        if (i != text.Length)
        {
            return AmountParseError.NotANumber;
        }
        return Normalize(intPart, fracPart, exp, out digits, out exponent);
    }

    private static AmountParseError ParseExponent(ReadOnlySpan<byte> text, ref int i, out long exp)
    {
        exp = 0;
        i++;
        var expNegative = false;
        if (i < text.Length && (text[i] == (byte)'+' || text[i] == (byte)'-'))
        {
            expNegative = text[i] == (byte)'-';
            i++;
        }
        var start = i;
        while (i < text.Length && IsDigit(text[i]))
        {
            // Saturate: anything beyond a million is out of range or precision anyway.
            if (exp < 1_000_000)
            {
                exp = (exp * 10) + (text[i] - (byte)'0');
            }
            i++;
        }
        if (i == start)
        {
            return AmountParseError.NotANumber;
        }
        exp = expNegative ? -exp : exp;
        return AmountParseError.None;
    }

    private static AmountParseError Normalize(
        ReadOnlySpan<byte> intPart, ReadOnlySpan<byte> fracPart, long exp, out string digits, out int exponent)
    {
        var all = new char[intPart.Length + fracPart.Length];
        for (var k = 0; k < intPart.Length; k++)
        {
            all[k] = (char)intPart[k];
        }
        for (var k = 0; k < fracPart.Length; k++)
        {
            all[intPart.Length + k] = (char)fracPart[k];
        }
        var start = 0;
        while (start < all.Length && all[start] == '0')
        {
            start++;
        }
        var end = all.Length;
        while (end > start && all[end - 1] == '0')
        {
            end--;
        }
        digits = new string(all, start, end - start);
        var shifted = exp - fracPart.Length + (all.Length - end);
        if (digits.Length == 0)
        {
            exponent = 0;
            return AmountParseError.None;
        }
        if (shifted > 1_000_000 || shifted < -1_000_000)
        {
            exponent = 0;
            return shifted > 0 ? AmountParseError.OutOfRange : AmountParseError.PrecisionExceeded;
        }
        exponent = (int)shifted;
        return AmountParseError.None;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';
}
