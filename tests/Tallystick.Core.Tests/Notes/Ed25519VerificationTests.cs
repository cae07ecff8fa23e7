using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Tallystick.Notes;

namespace Tallystick.Core.Tests.Notes;

// Goal: the OpenSSL fast path and the managed BouncyCastle path give the same verdict on every signature, so the
// choice of implementation can never change what verifies.
// Method: the published signed-note signature (test-vectors.md §2), then seeded random keys and messages (empty
// and long included), each checked intact and after every single-bit change of the signature and of the message,
// plus a signature whose S is not reduced (S + L): both implementations must agree everywhere.
public sealed class Ed25519VerificationTests
{
    private static readonly byte[] GroupOrder = Convert.FromHexString(
        "EDD3F55C1A631258D69CF7A2DEF9DE1400000000000000000000000000000010"); // L, little-endian

    [Fact]
    public void OnLinux_TheNativePathIsUsed()
    {
        var verification = new Ed25519Verification(Convert.FromHexString(NoteVectors.PeterPublicKeyHex));

        Assert.Equal(OperatingSystem.IsLinux(), verification.IsNative);
    }

    [Fact]
    public void PublishedSignedNoteSignature_VerifiesOnBothPaths()
    {
        var key = Convert.FromHexString(NoteVectors.SpecPublicKeyHex);
        var line = NoteVectors.SpecNote.Split('\n')[2];
        var signature = Convert.FromBase64String(line[(line.LastIndexOf(' ') + 1)..])[4..];
        var message = Encoding.UTF8.GetBytes("This is an example message.\n");

        Assert.True(new Ed25519Verification(key).Verify(message, signature));
        Assert.True(new Ed25519Verification(key, allowNative: false).Verify(message, signature));
        Assert.False(new Ed25519Verification(key).Verify(message.AsSpan(1), signature));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 64)]
    [InlineData(4, 4000)]
    public void RandomKeys_EveryBitFlip_BothPathsAgree(int seed, int messageLength)
    {
        var random = new Random(seed);
        var seedBytes = new byte[32];
        random.NextBytes(seedBytes);
        var privateKey = new Ed25519PrivateKeyParameters(seedBytes, 0);
        var publicKey = privateKey.GeneratePublicKey().GetEncoded();
        var message = new byte[messageLength];
        random.NextBytes(message);
        var signer = new Ed25519Signer();
        signer.Init(true, privateKey);
        signer.BlockUpdate(message, 0, message.Length);
        var signature = signer.GenerateSignature();
        var native = new Ed25519Verification(publicKey);
        var managed = new Ed25519Verification(publicKey, allowNative: false);

        Assert.True(native.Verify(message, signature));
        Assert.True(managed.Verify(message, signature));
        for (var bit = 0; bit < signature.Length * 8; bit++)
        {
            var changed = (byte[])signature.Clone();
            changed[bit / 8] ^= (byte)(1 << (bit % 8));
            var verdict = managed.Verify(message, changed);
            Assert.Equal(verdict, native.Verify(message, changed));
            Assert.False(verdict, $"signature bit {bit} flipped still verifies");
        }
        for (var bit = 0; bit < Math.Min(message.Length * 8, 512); bit++)
        {
            var changed = (byte[])message.Clone();
            changed[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(native.Verify(changed, signature));
            Assert.False(managed.Verify(changed, signature));
        }
        Assert.False(native.Verify(message, signature.AsSpan(0, 63)));
        Assert.False(managed.Verify(message, signature.AsSpan(0, 63)));
    }

    [Fact]
    public void UnreducedScalar_RejectedByBothPaths()
    {
        var privateKey = new Ed25519PrivateKeyParameters(new byte[32], 0);
        var publicKey = privateKey.GeneratePublicKey().GetEncoded();
        var message = Encoding.UTF8.GetBytes("malleability");
        var signer = new Ed25519Signer();
        signer.Init(true, privateKey);
        signer.BlockUpdate(message, 0, message.Length);
        var signature = signer.GenerateSignature();
        // S' = S + L (little-endian add): the same point equation, but RFC 8032 requires S < L.
        var carry = 0;
        for (var i = 0; i < 32; i++)
        {
            var sum = signature[32 + i] + GroupOrder[i] + carry;
            signature[32 + i] = unchecked((byte)sum);
            carry = sum >> 8;
        }

        Assert.False(new Ed25519Verification(publicKey).Verify(message, signature));
        Assert.False(new Ed25519Verification(publicKey, allowNative: false).Verify(message, signature));
    }
}
