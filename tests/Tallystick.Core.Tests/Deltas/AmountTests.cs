using System.Text;

namespace Tallystick.Core.Tests.Deltas;

// Goal: amounts are exact decimals: parsed from JSON text without binary floating point, normalised, summed exactly,
// and refused (never rounded) beyond 8 fraction digits. Method: table of literals against expected canonical text.
public sealed class AmountTests
{
    [Theory]
    [InlineData("-42.50", "-42.5")]
    [InlineData("0.1", "0.1")]
    [InlineData("1e3", "1000")]
    [InlineData("1.5E-2", "0.015")]
    [InlineData("-0.00000001", "-0.00000001")]
    [InlineData("1000000000", "1000000000")]
    [InlineData("123456789.12345678", "123456789.12345678")]
    [InlineData("1.000000000000000000000", "1")]
    [InlineData("0", "0")]
    [InlineData("-0.0", "0")]
    public void TryParseJsonNumber_Valid_CanonicalText(string literal, string expected)
    {
        Assert.Equal(AmountParseError.None, Amount.TryParseJsonNumber(Encoding.UTF8.GetBytes(literal), out var amount));
        Assert.Equal(expected, amount.ToString());
    }

    [Theory]
    [InlineData("0.123456789", AmountParseError.PrecisionExceeded)]
    [InlineData("1e-9", AmountParseError.PrecisionExceeded)]
    [InlineData("1e400", AmountParseError.OutOfRange)]
    [InlineData("1e-400", AmountParseError.PrecisionExceeded)]
    [InlineData("01", AmountParseError.NotANumber)]
    [InlineData("1.", AmountParseError.NotANumber)]
    [InlineData(".5", AmountParseError.NotANumber)]
    [InlineData("+1", AmountParseError.NotANumber)]
    [InlineData("NaN", AmountParseError.NotANumber)]
    [InlineData("1e", AmountParseError.NotANumber)]
    public void TryParseJsonNumber_Invalid_Refused(string literal, AmountParseError expected)
    {
        Assert.Equal(expected, Amount.TryParseJsonNumber(Encoding.UTF8.GetBytes(literal), out _));
    }

    [Fact]
    public void Addition_IsExact()
    {
        Amount.TryParseJsonNumber("0.1"u8, out var a);
        Amount.TryParseJsonNumber("0.2"u8, out var b);
        Assert.Equal("0.3", (a + b).ToString());
        Assert.Equal(Amount.FromUnits(-4_250_000_000), Amount.FromDecimal(-42.5m));
        Assert.Equal(-4_250_000_000, Amount.FromDecimal(-42.50m).ToUnits());
    }
}
