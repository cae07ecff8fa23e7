using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tallystick;

/// <summary>
/// An exact signed quantity (a delta or a balance) with at most <see cref="FractionDigitsMax"/> fraction digits.
/// </summary>
/// <remarks>
/// Backed by <see cref="decimal"/> and always kept normalised (no trailing fraction zeros), so that
/// <c>-42.50</c> and <c>-42.5</c> are the same value with the same text. Addition is checked: a result outside
/// <see cref="decimal"/> range throws <see cref="OverflowException"/>; callers that accept user input compare
/// against <see cref="Limits.BalanceAbsMax"/> first. Immutable and thread-safe.
/// </remarks>
[JsonConverter(typeof(AmountJsonConverter))]
public readonly struct Amount : IEquatable<Amount>, IComparable<Amount>
{
    /// <summary>The documented precision: values with more fraction digits are rejected, never rounded.</summary>
    public const int FractionDigitsMax = 8;

    /// <summary>The number of storage units in one whole unit (10^<see cref="FractionDigitsMax"/>).</summary>
    public const long UnitsPerWhole = 100_000_000;

    private readonly decimal _value;

    private Amount(decimal value) => _value = Normalize(value);

    /// <summary>Zero.</summary>
    public static Amount Zero => default;

    /// <summary>The exact decimal value.</summary>
    public decimal Value => _value;

    /// <summary>True when the value is zero.</summary>
    public bool IsZero => _value == 0m;

    /// <summary>
    /// Creates an amount from a decimal. Throws <see cref="ArgumentOutOfRangeException"/> when the value has
    /// more than <see cref="FractionDigitsMax"/> significant fraction digits.
    /// </summary>
    public static Amount FromDecimal(decimal value)
    {
        var normalized = Normalize(value);
        if (normalized.Scale > FractionDigitsMax)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value,
                $"an amount has at most {FractionDigitsMax} fraction digits");
        }
        return new Amount(normalized);
    }

    /// <summary>Creates an amount from storage units (1 unit = 10^-8). Exact for every <see cref="long"/>.</summary>
    public static Amount FromUnits(long units) => new(units / (decimal)UnitsPerWhole);

    /// <summary>
    /// The value in storage units (value × 10^8). Exact by construction; throws <see cref="OverflowException"/>
    /// when the value does not fit in a <see cref="long"/> (|value| ≥ ~9.2e10).
    /// </summary>
    public long ToUnits() => decimal.ToInt64(_value * UnitsPerWhole);

    /// <summary>
    /// Parses a JSON number literal exactly (no binary floating point on the way), e.g. <c>-42.50</c>,
    /// <c>1e3</c>, <c>1.5E-2</c>. Fails with <see cref="AmountParseError.NotANumber"/> for text that is not a
    /// JSON number, <see cref="AmountParseError.PrecisionExceeded"/> when the value needs more than
    /// <see cref="FractionDigitsMax"/> fraction digits, and <see cref="AmountParseError.OutOfRange"/> when
    /// |value| ≥ 10^18 (far beyond any valid delta).
    /// </summary>
    public static AmountParseError TryParseJsonNumber(ReadOnlySpan<byte> literal, out Amount amount)
    {
        amount = default;
        var error = JsonNumberText.TryDecompose(literal, out var negative, out var digits, out var exponent);
        if (error != AmountParseError.None)
        {
            return error;
        }
        if (digits.Length == 0)
        {
            return AmountParseError.None; // The literal is a zero.
        }
        if (exponent < -FractionDigitsMax)
        {
            return AmountParseError.PrecisionExceeded;
        }
        if (digits.Length + exponent > 18)
        {
            return AmountParseError.OutOfRange;
        }
        // digits × 10^exponent with at most 18 integer digits and 8 fraction digits: exact in decimal.
        var integerDigits = exponent >= 0 ? digits + new string('0', exponent) : digits;
        var scale = exponent >= 0 ? 0 : -exponent;
        var mantissa = decimal.Parse(integerDigits, NumberStyles.None, CultureInfo.InvariantCulture);
        var value = mantissa / Pow10(scale);
        amount = new Amount(negative ? -value : value);
        return AmountParseError.None;
    }

    /// <summary>Parses the invariant text form produced by <see cref="ToString"/> (also accepts JSON numbers).</summary>
    public static bool TryParse(string text, out Amount amount) =>
        TryParseJsonNumber(System.Text.Encoding.UTF8.GetBytes(text), out amount) == AmountParseError.None;

    /// <summary>Checked addition; throws <see cref="OverflowException"/> outside <see cref="decimal"/> range.</summary>
    public static Amount operator +(Amount left, Amount right) => new(left._value + right._value);

    /// <summary>Checked subtraction; throws <see cref="OverflowException"/> outside <see cref="decimal"/> range.</summary>
    public static Amount operator -(Amount left, Amount right) => new(left._value - right._value);

    /// <summary>Negation.</summary>
    public static Amount operator -(Amount value) => new(-value._value);

    /// <summary>Value equality.</summary>
    public static bool operator ==(Amount left, Amount right) => left._value == right._value;

    /// <summary>Value inequality.</summary>
    public static bool operator !=(Amount left, Amount right) => left._value != right._value;

    /// <summary>Ordering by value.</summary>
    public static bool operator <(Amount left, Amount right) => left._value < right._value;

    /// <summary>Ordering by value.</summary>
    public static bool operator >(Amount left, Amount right) => left._value > right._value;

    /// <summary>Ordering by value.</summary>
    public static bool operator <=(Amount left, Amount right) => left._value <= right._value;

    /// <summary>Ordering by value.</summary>
    public static bool operator >=(Amount left, Amount right) => left._value >= right._value;

    /// <summary>Absolute value.</summary>
    public Amount Abs() => new(Math.Abs(_value));

    /// <inheritdoc />
    public bool Equals(Amount other) => _value == other._value;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Amount other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _value.GetHashCode();

    /// <inheritdoc />
    public int CompareTo(Amount other) => _value.CompareTo(other._value);

    /// <summary>
    /// The canonical text: invariant culture, no exponent, no trailing fraction zeros, "-" for negatives,
    /// e.g. <c>-42.5</c>, <c>0.3</c>, <c>1000</c>. This is the form hashed into delta fingerprints.
    /// </summary>
    public override string ToString() => _value.ToString(CultureInfo.InvariantCulture);

    private static decimal Normalize(decimal value) => value / 1.000000000000000000000000000000000m;

    private static decimal Pow10(int exponent)
    {
        var result = 1m;
        for (var i = 0; i < exponent; i++)
        {
            result *= 10m;
        }
        return result;
    }
}

/// <summary>Why a JSON number could not become an <see cref="Amount"/>.</summary>
public enum AmountParseError
{
    /// <summary>Parsed.</summary>
    None,

    /// <summary>The text is not a JSON number.</summary>
    NotANumber,

    /// <summary>More than <see cref="Amount.FractionDigitsMax"/> significant fraction digits.</summary>
    PrecisionExceeded,

    /// <summary>The magnitude is far outside any accepted range.</summary>
    OutOfRange,
}

/// <summary>Writes amounts as exact JSON numbers and reads them without a trip through <see cref="double"/>.</summary>
public sealed class AmountJsonConverter : JsonConverter<Amount>
{
    /// <inheritdoc />
    public override Amount Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw new JsonException("an amount must be a JSON number");
        }
        var literal = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray();
        var error = Amount.TryParseJsonNumber(literal, out var amount);
        if (error != AmountParseError.None)
        {
            throw new JsonException($"invalid amount: {error}");
        }
        return amount;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, Amount value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.Value);
}
