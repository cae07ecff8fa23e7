using System.Globalization;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Tallystick.Notes;

namespace Tallystick.Core.Tests.Notes;

// Goal: libsodium, OpenSSL and the managed BouncyCastle implementation give the same verdict on every signature, so
// the choice of implementation can never change what verifies.
// Method: the published signed-note signature (test-vectors.md §2), then seeded random keys and messages (empty
// and long included), each checked intact and after every single-bit change of the signature and of the message,
// a signature whose S is not reduced (S + L), every small-order R, and small-order or non-canonical public keys:
// every implementation available on this machine must agree with the managed one everywhere.
public sealed class Ed25519VerificationTests
{
    private static readonly byte[] GroupOrder = Convert.FromHexString(
        "EDD3F55C1A631258D69CF7A2DEF9DE1400000000000000000000000000000010"); // L, little-endian

    // The encodings of the points of order 1, 2, 4 and 8 (libsodium's list), each also with the sign bit set.
    private static readonly string[] SmallOrderHex =
    [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];

    // By name: the enum is internal to Core, and xunit theories must be public.
    public static TheoryData<string> Backends => [.. Ed25519Verification.Available.Select(b => b.ToString())];

    [Fact]
    public void OnLinux_ANativeImplementationIsUsed()
    {
        var verification = new Ed25519Verification(Convert.FromHexString(NoteVectors.PeterPublicKeyHex));

        Assert.Equal(OperatingSystem.IsLinux(), verification.Backend != Ed25519Backend.Managed);
        Assert.Equal(Ed25519Verification.Available[0], verification.Backend);
        Assert.Equal(Ed25519Backend.Managed, Ed25519Verification.Available[^1]);
    }

    [Fact]
    public void ThisMachine_HasEveryImplementation()
    {
        // The development and CI image has libsodium and OpenSSL 3; if this fails, the cross-checks below cover
        // fewer implementations than the server may use elsewhere.
        Ed25519Backend[] expected = OperatingSystem.IsLinux()
            ? [Ed25519Backend.Sodium, Ed25519Backend.OpenSsl, Ed25519Backend.Managed]
            : [.. Ed25519Verification.Available.Where(b => b != Ed25519Backend.Managed), Ed25519Backend.Managed];

        Assert.Equal(expected, Ed25519Verification.Available);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void PublishedSignedNoteSignature_Verifies(string name)
    {
        var backend = Enum.Parse<Ed25519Backend>(name);
        var key = Convert.FromHexString(NoteVectors.SpecPublicKeyHex);
        var line = NoteVectors.SpecNote.Split('\n')[2];
        var signature = Convert.FromBase64String(line[(line.LastIndexOf(' ') + 1)..])[4..];
        var message = Encoding.UTF8.GetBytes("This is an example message.\n");
        var verification = new Ed25519Verification(key, backend);

        Assert.Equal(backend, verification.Backend);
        Assert.True(verification.Verify(message, signature));
        Assert.False(verification.Verify(message.AsSpan(1), signature));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 64)]
    [InlineData(4, 4000)]
    public void RandomKeys_EveryBitFlip_AllImplementationsAgree(int seed, int messageLength)
    {
        var random = new Random(seed);
        var (publicKey, privateKey) = NewKey(random);
        var message = new byte[messageLength];
        random.NextBytes(message);
        var signature = Sign(privateKey, message);
        var managed = new Ed25519Verification(publicKey, Ed25519Backend.Managed);
        var others = Ed25519Verification.Available.Select(b => new Ed25519Verification(publicKey, b)).ToList();

        foreach (var verification in others)
        {
            Assert.True(verification.Verify(message, signature), $"{verification.Backend}: intact signature");
            Assert.False(verification.Verify(message, signature.AsSpan(0, 63)), $"{verification.Backend}: 63 bytes");
        }
        for (var bit = 0; bit < signature.Length * 8; bit++)
        {
            var changed = (byte[])signature.Clone();
            changed[bit / 8] ^= (byte)(1 << (bit % 8));
            var verdict = managed.Verify(message, changed);
            Assert.False(verdict, $"signature bit {bit} flipped still verifies");
            foreach (var verification in others)
            {
                Assert.Equal(verdict, verification.Verify(message, changed));
            }
        }
        for (var bit = 0; bit < Math.Min(message.Length * 8, 512); bit++)
        {
            var changed = (byte[])message.Clone();
            changed[bit / 8] ^= (byte)(1 << (bit % 8));
            foreach (var verification in others)
            {
                Assert.False(verification.Verify(changed, signature), $"{verification.Backend}: message bit {bit}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void UnreducedScalar_Rejected(string name)
    {
        var backend = Enum.Parse<Ed25519Backend>(name);
        var (publicKey, privateKey) = NewKey(new Random(7));
        var message = Encoding.UTF8.GetBytes("malleability");
        var signature = Sign(privateKey, message);
        // S' = S + L (little-endian add): the same point equation, but RFC 8032 requires S < L.
        var carry = 0;
        for (var i = 0; i < 32; i++)
        {
            var sum = signature[32 + i] + GroupOrder[i] + carry;
            signature[32 + i] = unchecked((byte)sum);
            carry = sum >> 8;
        }

        Assert.False(new Ed25519Verification(publicKey, backend).Verify(message, signature));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void SmallOrderR_Rejected(string name)
    {
        var backend = Enum.Parse<Ed25519Backend>(name);
        // With R of small order and S = 0 the cofactorless equation [S]B = R + [k]A fails for an honest key, so
        // this also checks that no implementation treats such an R specially in the other direction.
        var (publicKey, _) = NewKey(new Random(8));
        var verification = new Ed25519Verification(publicKey, backend);
        foreach (var hex in SmallOrderHex)
        {
            foreach (var sign in new byte[] { 0x00, 0x80 })
            {
                var signature = new byte[64];
                Convert.FromHexString(hex).CopyTo(signature, 0);
                signature[31] |= sign;

                Assert.False(verification.Verify("message"u8, signature), $"R = {hex} sign {sign}");
            }
        }
    }

    [Fact]
    public void SmallOrderPublicKey_IsRefused_ForgeryWouldVerifyOtherwise()
    {
        // Under the identity key, R = identity and S = 0 satisfy [S]B = R + [k]A for every message: a key that
        // "signs" everything. Every small-order key is refused before any implementation sees it.
        foreach (var hex in SmallOrderHex)
        {
            foreach (var sign in new byte[] { 0x00, 0x80 })
            {
                var key = Convert.FromHexString(hex);
                key[31] |= sign;

                // p and p + 1 (the last two) are also non-canonical encodings, which is reported first.
                var problem = Ed25519Verification.DescribeUnusableKey(key);
                Assert.True(problem?.Contains("small order") == true || problem?.Contains("canonical") == true, problem);
                foreach (var backend in Ed25519Verification.Available)
                {
                    Assert.Throws<ArgumentException>(() => new Ed25519Verification(key, backend));
                }
                var vkey = "forger+" + NoteVerifier.ComputeKeyId("forger", key).ToString("x8", CultureInfo.InvariantCulture) +
                    "+" + Convert.ToBase64String([0x01, .. key]);
                var refused = Assert.Throws<FormatException>(() => NoteVerifier.Parse(vkey));
                Assert.Equal(problem, refused.Message);
            }
        }
    }

    [Fact]
    public void NonCanonicalPublicKey_IsRefused()
    {
        // y = p + 2 .. 2^255 - 1 are encodings of y - p; libsodium refuses them, so all implementations do.
        var key = Convert.FromHexString("efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");

        Assert.Contains("canonical", Ed25519Verification.DescribeUnusableKey(key));
        Assert.Throws<ArgumentException>(() => new Ed25519Verification(key));
        key[0] = 0xec; // p - 1 is canonical, but of small order
        Assert.Contains("small order", Ed25519Verification.DescribeUnusableKey(key));
        key[0] = 0xeb; // p - 2: canonical, and not of small order
        Assert.Null(Ed25519Verification.DescribeUnusableKey(key));
    }

    private static (byte[] PublicKey, Ed25519PrivateKeyParameters PrivateKey) NewKey(Random random)
    {
        var seedBytes = new byte[32];
        random.NextBytes(seedBytes);
        var privateKey = new Ed25519PrivateKeyParameters(seedBytes, 0);
        return (privateKey.GeneratePublicKey().GetEncoded(), privateKey);
    }

    private static byte[] Sign(Ed25519PrivateKeyParameters privateKey, byte[] message)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, privateKey);
        signer.BlockUpdate(message, 0, message.Length);
        return signer.GenerateSignature();
    }
}
