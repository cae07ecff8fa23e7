using System.Text;
using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Merkle;

// Goal: the fast SHA-256 (OpenSSL's low-level functions) is SHA-256: same digest as .NET's one-shot for every input.
// Method: FIPS 180-4 / NIST vectors (empty, "abc", the two-block 448-bit message, one million 'a'), every length
// 0..1000 of seeded random bytes (every padding boundary: 55/56/64 and multiples), and in-place use (destination
// inside the input).
public sealed class Sha256Tests
{
    [Fact]
    public void OnLinux_TheNativePathIsUsed()
    {
        Assert.Equal(OperatingSystem.IsLinux(), Sha256.IsNative);
    }

    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void NistVectors(string message, string expected)
    {
        Assert.Equal(expected, Convert.ToHexStringLower(Sha256.Hash(Encoding.ASCII.GetBytes(message))));
    }

    [Fact]
    public void NistVector_OneMillionA()
    {
        var message = Enumerable.Repeat((byte)'a', 1_000_000).ToArray();

        Assert.Equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
            Convert.ToHexStringLower(Sha256.Hash(message)));
    }

    [Fact]
    public void EveryLengthTo1000_MatchesDotNet()
    {
        var random = new Random(6962);
        var data = new byte[1000];
        random.NextBytes(data);
        Span<byte> fast = stackalloc byte[32];
        Span<byte> oracle = stackalloc byte[32];
        for (var length = 0; length <= data.Length; length++)
        {
            Sha256.Hash(data.AsSpan(0, length), fast);
            Sha256.HashManaged(data.AsSpan(0, length), oracle);
            Assert.True(fast.SequenceEqual(oracle), $"length {length}");
        }
    }

    [Fact]
    public void DestinationInsideTheInput_IsWrittenAfterReading()
    {
        var data = new byte[65];
        new Random(1).NextBytes(data);
        var expected = new byte[32];
        Sha256.HashManaged(data, expected);

        Sha256.Hash(data, data.AsSpan(10, 32));

        Assert.Equal(expected, data[10..42]);
    }

    [Fact]
    public void ShortDestination_Throws()
    {
        Assert.Throws<ArgumentException>(() => Sha256.Hash("abc"u8, new byte[31]));
    }
}
