using System.Text;
using Tallystick.Notes;

namespace Tallystick.Core.Tests.Notes;

// Goal: verifier keys parse exactly as golang.org/x/mod sumdb/note does and every corruption is rejected with a
// FormatException. Method: the published vkeys (spec, sumdb, Peter/Enoch/Log/Known), the two published bad keys,
// and exhaustive mutations of the good key: every proper substring and every single-byte increment.
public sealed class NoteVerifierTests
{
    [Theory]
    [InlineData(NoteVectors.SpecVkey, "example.com/foo", 0x530d903au)]
    [InlineData(NoteVectors.PeterVkey, "PeterNeumann", 0xc74f20a3u)]
    [InlineData(NoteVectors.EnochVkey, "EnochRoot", 0xaf0cfe78u)]
    [InlineData(NoteVectors.SumDbVkey, "sum.golang.org", 0x033de0aeu)]
    [InlineData(NoteVectors.LogVkey, "Log", 0x2271c621u)]
    [InlineData(NoteVectors.KnownVkey, "Known", 0x451c786du)]
    public void Parse_PublishedVkey_ExposesNameKeyIdAndText(string vkey, string name, uint keyId)
    {
        var verifier = NoteVerifier.Parse(vkey);
        Assert.Equal(name, verifier.Name);
        Assert.Equal(keyId, verifier.KeyId);
        Assert.Equal(vkey, verifier.VerifierKeyText);
        Assert.Equal(vkey, verifier.ToString());
    }

    [Theory]
    [InlineData("example.com/foo", NoteVectors.SpecPublicKeyHex, 0x530d903au)]
    [InlineData("PeterNeumann", NoteVectors.PeterPublicKeyHex, 0xc74f20a3u)]
    [InlineData("sum.golang.org", NoteVectors.SumDbPublicKeyHex, 0x033de0aeu)]
    public void ComputeKeyId_PublishedKey_MatchesKeyId(string name, string publicKeyHex, uint expected)
    {
        Assert.Equal(expected, NoteVerifier.ComputeKeyId(name, Convert.FromHexString(publicKeyHex)));
    }

    [Theory]
    [InlineData("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")]
    [InlineData("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    [InlineData("PeterNeumann+c74f20a3")]
    [InlineData("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    [InlineData("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    [InlineData("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    [InlineData("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW ")]
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T")]
    [InlineData("")]
    public void Parse_BadVkey_ThrowsFormatException(string vkey)
    {
        Assert.Throws<FormatException>(() => NoteVerifier.Parse(vkey));
    }

    [Fact]
    public void Parse_UnknownAlgorithm_SaysWhichAlgorithm()
    {
        var e = Assert.Throws<FormatException>(
            () => NoteVerifier.Parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"));
        Assert.Contains("0x65", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_KeyIdMismatch_SaysBothIds()
    {
        var e = Assert.Throws<FormatException>(
            () => NoteVerifier.Parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"));
        Assert.Equal("key id c74f20a4 does not match the key (computed c74f20a3)", e.Message);
    }

    [Fact]
    public void Parse_EveryProperSubstringOfGoodVkey_ThrowsFormatException()
    {
        string vkey = NoteVectors.PeterVkey;
        for (int start = 0; start < vkey.Length; start++)
        {
            for (int end = start; end <= vkey.Length; end++)
            {
                if (start == 0 && end == vkey.Length)
                {
                    continue;
                }
                string sub = vkey[start..end];
                Assert.True(Rejects(sub), $"substring [{start}..{end}) \"{sub}\" was accepted");
            }
        }
    }

    [Fact]
    public void Parse_EverySingleByteIncrementOfGoodVkey_ThrowsFormatException()
    {
        var bytes = Encoding.ASCII.GetBytes(NoteVectors.PeterVkey);
        for (int i = 0; i < bytes.Length; i++)
        {
            var bad = (byte[])bytes.Clone();
            bad[i]++;
            string text = Encoding.Latin1.GetString(bad);
            Assert.True(Rejects(text), $"increment at {i}: \"{text}\" was accepted");
        }
    }

    private static bool Rejects(string vkey)
    {
        try
        {
            NoteVerifier.Parse(vkey);
            return false;
        }
        catch (FormatException)
        {
            return true;
        }
    }
}
