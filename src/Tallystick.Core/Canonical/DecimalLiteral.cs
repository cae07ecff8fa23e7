using System.Globalization;

namespace Tallystick.Canonical;

/// <summary>
/// The exact decimal value of a JSON number literal, normalised so that equal values compare equal:
/// value = ±0.<see cref="Digits"/> × 10^<see cref="PointPosition"/>, where <see cref="Digits"/> has no leading
/// or trailing zeros. Zero is the empty digit string with position 0 and no sign. This matches the
/// (s, k, n) triple that ECMA-262 Number::toString works with, which is why the position is "digits before
/// the point" rather than a plain exponent.
/// </summary>
internal readonly record struct DecimalLiteral(bool Negative, string Digits, long PointPosition)
{
    // Exponents beyond this many digits are clamped: such a literal is 0 or outside the double range anyway,
    // and clamping keeps the arithmetic in long without overflow.
    private const int ExponentDigitsMax = 15;
    private const long ExponentClamp = 1_000_000_000_000_000;

    public bool IsZero => Digits.Length == 0;

    /// <summary>Parses text that follows the RFC 8259 number grammar exactly
    /// (<c>-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?</c>).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DecimalLiteral literal)
    {
        literal = default;
        int i = 0;
        bool negative = i < text.Length && text[i] == '-';
        if (negative)
        {
            i++;
        }
        int intStart = i;
        i = SkipDigits(text, i);
        var intPart = text[intStart..i];
        if (intPart.Length == 0 || (intPart.Length > 1 && intPart[0] == '0'))
        {
            return false;
        }
        ReadOnlySpan<char> fracPart = [];
        if (i < text.Length && text[i] == '.')
        {
            int fracStart = ++i;
            i = SkipDigits(text, i);
            fracPart = text[fracStart..i];
            if (fracPart.Length == 0)
            {
                return false;
            }
        }
        long exponent = 0;
        if (i < text.Length && (text[i] == 'e' || text[i] == 'E'))
        {
            if (!TryParseExponent(text[(i + 1)..], out exponent))
            {
                return false;
            }
            i = text.Length;
        }
        if (i != text.Length)
        {
            return false;
        }
        literal = Normalize(negative, intPart, fracPart, exponent);
        return true;
    }

    private static DecimalLiteral Normalize(
        bool negative, ReadOnlySpan<char> intPart, ReadOnlySpan<char> fracPart, long exponent)
    {
        string all = string.Concat(intPart, fracPart);
        int leadingZeros = all.Length - all.AsSpan().TrimStart('0').Length;
        string digits = all[leadingZeros..].TrimEnd('0');
        if (digits.Length == 0)
        {
            return new DecimalLiteral(Negative: false, Digits: "", PointPosition: 0);
        }
        return new DecimalLiteral(negative, digits, intPart.Length + exponent - leadingZeros);
    }

    private static bool TryParseExponent(ReadOnlySpan<char> text, out long exponent)
    {
        exponent = 0;
        bool negative = text.Length > 0 && text[0] == '-';
        if (text.Length > 0 && (text[0] == '-' || text[0] == '+'))
        {
            text = text[1..];
        }
        if (text.Length == 0 || SkipDigits(text, 0) != text.Length)
        {
            return false;
        }
        var significant = text.TrimStart('0');
        exponent = significant.Length > ExponentDigitsMax
            ? ExponentClamp
            : significant.Length == 0 ? 0 : long.Parse(significant, NumberStyles.None, CultureInfo.InvariantCulture);
        if (negative)
        {
            exponent = -exponent;
        }
        return true;
    }

    private static int SkipDigits(ReadOnlySpan<char> text, int i)
    {
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }
        return i;
    }
}
