using System.Globalization;
using Tallystick.Canonical;

namespace Tallystick.Core.Tests.Canonical;

// Goal: Es6Number.Format matches ECMAScript Number::toString for every row of RFC 8785 Appendix B, the author's
// extra rows and the decimal-literal rows (test-vectors.md §5.2); IsExactlyRepresentable decides exactness
// without floating-point arithmetic. Method: table rows by IEEE bit pattern, plus a seeded round-trip sweep.
public sealed class Es6NumberTests
{
    [Theory]
    [InlineData("0000000000000000", "0")]
    [InlineData("8000000000000000", "0")]
    [InlineData("0000000000000001", "5e-324")]
    [InlineData("8000000000000001", "-5e-324")]
    [InlineData("7fefffffffffffff", "1.7976931348623157e+308")]
    [InlineData("ffefffffffffffff", "-1.7976931348623157e+308")]
    [InlineData("4340000000000000", "9007199254740992")]
    [InlineData("c340000000000000", "-9007199254740992")]
    [InlineData("4430000000000000", "295147905179352830000")]
    [InlineData("44b52d02c7e14af5", "9.999999999999997e+22")]
    [InlineData("44b52d02c7e14af6", "1e+23")]
    [InlineData("44b52d02c7e14af7", "1.0000000000000001e+23")]
    [InlineData("444b1ae4d6e2ef4e", "999999999999999700000")]
    [InlineData("444b1ae4d6e2ef4f", "999999999999999900000")]
    [InlineData("444b1ae4d6e2ef50", "1e+21")]
    [InlineData("3eb0c6f7a0b5ed8c", "9.999999999999997e-7")]
    [InlineData("3eb0c6f7a0b5ed8d", "0.000001")]
    [InlineData("41b3de4355555553", "333333333.3333332")]
    [InlineData("41b3de4355555554", "333333333.33333325")]
    [InlineData("41b3de4355555555", "333333333.3333333")]
    [InlineData("41b3de4355555556", "333333333.3333334")]
    [InlineData("41b3de4355555557", "333333333.33333343")]
    [InlineData("becbf647612f3696", "-0.0000033333333333333333")]
    [InlineData("43143ff3c1cb0959", "1424953923781206.2")]
    [InlineData("4340000000000001", "9007199254740994")]
    [InlineData("4340000000000002", "9007199254740996")]
    public void Format_AppendixBRow_MatchesEcmaScript(string ieeeHex, string expected)
    {
        Assert.Equal(expected, Es6Number.Format(FromBits(ieeeHex)));
    }

    [Theory]
    [InlineData("7fffffffffffffff")]
    [InlineData("7ff0000000000000")]
    [InlineData("fff0000000000000")]
    public void Format_NaNOrInfinity_ThrowsArgumentException(string ieeeHex)
    {
        Assert.Throws<ArgumentException>(() => Es6Number.Format(FromBits(ieeeHex)));
    }

    [Theory]
    [InlineData("1e21", "1e+21")]
    [InlineData("1e20", "100000000000000000000")]
    [InlineData("1e22", "1e+22")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("0.0000001", "1e-7")]
    [InlineData("1e-7", "1e-7")]
    [InlineData("-0", "0")]
    [InlineData("1E30", "1e+30")]
    [InlineData("333333333.33333329", "333333333.3333333")]
    [InlineData("4.50", "4.5")]
    [InlineData("2e-3", "0.002")]
    [InlineData("0.000000000000000000000000001", "1e-27")]
    [InlineData("1.5e300", "1.5e+300")]
    [InlineData("9007199254740993", "9007199254740992")]
    [InlineData("-1.5e-7", "-1.5e-7")]
    [InlineData("123456.789", "123456.789")]
    [InlineData("0.1", "0.1")]
    [InlineData("100", "100")]
    public void Format_DecimalLiteral_MatchesEcmaScript(string literal, string expected)
    {
        Assert.Equal(expected, Es6Number.Format(double.Parse(literal, CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData("4.50", true)]
    [InlineData("0.1", true)]
    [InlineData("1E30", true)]
    [InlineData("0.30000000000000004", true)]
    [InlineData("0", true)]
    [InlineData("-0", true)]
    [InlineData("-0.0e-5", true)]
    [InlineData("0e99999999999999999999", true)]
    [InlineData("1e21", true)]
    [InlineData("100e-2", true)]
    [InlineData("0.000001", true)]
    [InlineData("5e-324", true)]
    [InlineData("1.7976931348623157e308", true)]
    [InlineData("-9007199254740992", true)]
    [InlineData("9007199254740993", false)]
    [InlineData("1e400", false)]
    [InlineData("-1e400", false)]
    [InlineData("1e-400", false)]
    [InlineData("1e99999999999999999999", false)]
    [InlineData("333333333.33333329", false)]
    [InlineData("0.30000000000000001", false)]
    [InlineData("123456789012345678901234567890", false)]
    public void IsExactlyRepresentable_Literal_ReturnsExpected(string literal, bool expected)
    {
        Assert.Equal(expected, Es6Number.IsExactlyRepresentable(literal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("01")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("+1")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("0x10")]
    [InlineData("--1")]
    public void IsExactlyRepresentable_NotAJsonNumber_ThrowsArgumentException(string literal)
    {
        Assert.Throws<ArgumentException>(() => Es6Number.IsExactlyRepresentable(literal));
    }

    [Fact]
    public void Format_RandomDoubles_RoundTripAndAreExact()
    {
        const int seed = 8785;
        var random = new Random(seed);
        Span<byte> bits = stackalloc byte[8];
        for (int i = 0; i < 20_000; i++)
        {
            random.NextBytes(bits);
            double value = BitConverter.ToDouble(bits);
            if (!double.IsFinite(value))
            {
                continue;
            }
            string text = Es6Number.Format(value);
            double back = double.Parse(text, CultureInfo.InvariantCulture);
            Assert.True(back == value, $"seed {seed}, bits {Convert.ToHexString(bits)}: {text} parses to {back}");
            Assert.True(Es6Number.IsExactlyRepresentable(text), $"seed {seed}: {text} not exact");
            Assert.DoesNotContain('E', text);
            Assert.False(text.Contains(".e", StringComparison.Ordinal) || text.EndsWith('.'), text);
        }
    }

    private static double FromBits(string hex) =>
        BitConverter.UInt64BitsToDouble(ulong.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
}
