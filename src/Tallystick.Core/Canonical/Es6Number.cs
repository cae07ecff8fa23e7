using System.Globalization;
using System.Text;

namespace Tallystick.Canonical;

/// <summary>
/// Serialises doubles the way ECMAScript's <c>Number.prototype.toString()</c> does (ECMA-262 Number::toString),
/// which RFC 8785 §3.2.2.3 requires for canonical JSON numbers: shortest round-trip digits, positional notation
/// for 1e-6 &lt;= |x| &lt; 1e21, otherwise <c>d.ddde±n</c>. .NET's <c>"R"</c> format yields the same shortest digits
/// but a different layout (<c>1E+21</c>, <c>1E-07</c>), so only the digits are taken from it.
/// All members are pure and thread-safe.
/// </summary>
public static class Es6Number
{
    // ECMA-262 switches to exponent notation at n > 21 and at n <= -6 (n = digits before the point).
    private const int PositionalPointMax = 21;
    private const int PositionalPointMin = -5;

    /// <summary>Formats a finite double as ECMAScript would, e.g. <c>1e+21</c>, <c>1e-7</c>, <c>0.000001</c>,
    /// <c>333333333.3333333</c>; both zeros give <c>"0"</c>.</summary>
    /// <param name="value">A finite double.</param>
    /// <returns>The canonical JSON number text (ASCII).</returns>
    /// <exception cref="ArgumentException"><paramref name="value"/> is NaN or an infinity, which JSON cannot
    /// represent.</exception>
    public static string Format(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"{value} has no JSON representation", nameof(value));
        }
        if (value == 0)
        {
            return "0";
        }
        string shortest = value.ToString("R", CultureInfo.InvariantCulture);
        if (!DecimalLiteral.TryParse(shortest, out var literal))
        {
            throw new InvalidOperationException($"unexpected round-trip format \"{shortest}\" for {value}");
        }
        return Layout(literal);
    }

    /// <summary>
    /// Tells whether a JSON number literal survives canonicalisation without changing value: true iff the exact
    /// decimal value of <paramref name="jsonNumberLiteral"/> equals the exact decimal value of
    /// <see cref="Format"/> applied to the nearest double. Compares normalised digits and exponents, never
    /// floating-point values. Examples: <c>"4.50"</c>, <c>"0.1"</c>, <c>"1E30"</c> are true;
    /// <c>"9007199254740993"</c>, <c>"333333333.33333329"</c> and <c>"1e400"</c> (out of range) are false.
    /// </summary>
    /// <param name="jsonNumberLiteral">Text following the RFC 8259 number grammar, with no surrounding space.</param>
    /// <returns>True if canonicalisation preserves the literal's value exactly.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="jsonNumberLiteral"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="jsonNumberLiteral"/> is not a JSON number.</exception>
    public static bool IsExactlyRepresentable(string jsonNumberLiteral)
    {
        ArgumentNullException.ThrowIfNull(jsonNumberLiteral);
        if (!DecimalLiteral.TryParse(jsonNumberLiteral, out var literal))
        {
            throw new ArgumentException(
                $"\"{jsonNumberLiteral}\" is not a JSON number literal", nameof(jsonNumberLiteral));
        }
        double nearest = double.Parse(jsonNumberLiteral, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(nearest))
        {
            return false;
        }
        return DecimalLiteral.TryParse(Format(nearest), out var canonical) && literal == canonical;
    }

    private static string Layout(DecimalLiteral literal)
    {
        string s = literal.Digits;
        int k = s.Length;
        long n = literal.PointPosition;
        var text = new StringBuilder(k + 26);
        if (literal.Negative)
        {
            text.Append('-');
        }
        if (k <= n && n <= PositionalPointMax)
        {
            text.Append(s).Append('0', (int)(n - k));
        }
        else if (0 < n && n <= PositionalPointMax)
        {
            text.Append(s, 0, (int)n).Append('.').Append(s, (int)n, k - (int)n);
        }
        else if (PositionalPointMin <= n && n <= 0)
        {
            text.Append("0.").Append('0', (int)-n).Append(s);
        }
        else
        {
            long e = n - 1;
            text.Append(s[0]);
            if (k > 1)
            {
                text.Append('.').Append(s, 1, k - 1);
            }
            text.Append('e').Append(e < 0 ? '-' : '+').Append(Math.Abs(e).ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
