using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Tallystick.Notes;

/// <summary>
/// The public half of a C2SP signed-note Ed25519 key (signature type 0x01): a key name, a 32-bit key ID and
/// the public key. Parsed from, and printed as, the verifier key ("vkey") text
/// <c>&lt;name&gt;+&lt;8 lowercase hex key ID&gt;+&lt;base64(0x01 || public key)&gt;</c>, e.g.
/// <c>example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k</c>. Immutable and thread-safe.
/// </summary>
public sealed class NoteVerifier
{
    /// <summary>The signed-note signature type byte for Ed25519.</summary>
    internal const byte AlgorithmEd25519 = 0x01;

    /// <summary>Length of an Ed25519 public key and of a seed.</summary>
    internal const int KeySize = 32;

    /// <summary>Length of an Ed25519 signature.</summary>
    internal const int SignatureSize = 64;

    private readonly Ed25519Verification signatures;

    internal NoteVerifier(string name, uint keyId, byte[] publicKey)
    {
        Name = name;
        KeyId = keyId;
        signatures = new Ed25519Verification(publicKey);
        var encoded = new byte[1 + KeySize];
        encoded[0] = AlgorithmEd25519;
        publicKey.CopyTo(encoded, 1);
        VerifierKeyText = $"{name}+{keyId:x8}+{Convert.ToBase64String(encoded)}";
    }

    /// <summary>The key name, which signature lines carry in clear (no spaces, no '+').</summary>
    public string Name { get; }

    /// <summary>The key ID: the first four bytes, big-endian, of <c>SHA-256(name || 0x0A || 0x01 || public
    /// key)</c>.</summary>
    public uint KeyId { get; }

    /// <summary>The vkey text <c>name+keyid+base64(0x01 || public key)</c>; <see cref="Parse"/> accepts it
    /// back.</summary>
    public string VerifierKeyText { get; }

    /// <summary>Parses vkey text such as
    /// <c>PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW</c>.</summary>
    /// <param name="vkey">The verifier key text. The name ends at the first '+', the key ID at the second; the
    /// rest is the base64 key (base64 may itself contain '+').</param>
    /// <returns>The verifier.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="vkey"/> is null.</exception>
    /// <exception cref="FormatException">The text is not three '+'-separated fields; the name is invalid; the key ID
    /// is not 8 lowercase hex digits; the key is not canonical base64; the algorithm byte is not Ed25519 (0x01);
    /// the key is not 32 bytes; the key ID does not match the name and key; or the key is not a canonical point
    /// encoding or is a point of small order (under which forged signatures would verify). The message says
    /// which.</exception>
    public static NoteVerifier Parse(string vkey)
    {
        ArgumentNullException.ThrowIfNull(vkey);
        var fields = vkey.Split('+', 3);
        if (fields.Length != 3)
        {
            throw new FormatException("verifier key must have the form <name>+<key id>+<base64 key>");
        }
        var (name, keyId, key) = ParseKeyFields(fields[0], fields[1], fields[2]);
        uint computed = ComputeKeyId(name, key);
        if (computed != keyId)
        {
            throw new FormatException($"key id {keyId:x8} does not match the key (computed {computed:x8})");
        }
        if (Ed25519Verification.DescribeUnusableKey(key) is { } problem)
        {
            throw new FormatException(problem);
        }
        return new NoteVerifier(name, keyId, key);
    }

    /// <summary>Computes the signed-note key ID of an Ed25519 key:
    /// the first four bytes of <c>SHA-256(UTF-8(name) || 0x0A || 0x01 || publicKey)</c> as a big-endian
    /// integer.</summary>
    /// <param name="name">The key name; not validated here.</param>
    /// <param name="publicKey">The raw public key, without the algorithm byte.</param>
    /// <returns>The key ID.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public static uint ComputeKeyId(string name, ReadOnlySpan<byte> publicKey)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(name));
        hash.AppendData([(byte)'\n', AlgorithmEd25519]);
        hash.AppendData(publicKey);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return BinaryPrimitives.ReadUInt32BigEndian(digest);
    }

    /// <summary>Returns <see cref="VerifierKeyText"/>.</summary>
    /// <returns>The vkey text.</returns>
    public override string ToString() => VerifierKeyText;

    /// <summary>Checks an Ed25519 signature over <paramref name="message"/>; false for any malformed
    /// signature.</summary>
    internal bool Verify(byte[] message, byte[] signature) => signatures.Verify(message, signature);

    /// <summary>Validates the name, key ID and key fields shared by vkeys and private keys. The messages never
    /// include the key bytes, because for a private key they are the secret.</summary>
    internal static (string Name, uint KeyId, byte[] Key) ParseKeyFields(string name, string keyIdHex, string keyBase64)
    {
        if (!NoteGrammar.IsValidName(name))
        {
            throw new FormatException(NoteGrammar.DescribeInvalidName(name));
        }
        if (keyIdHex.Length != 8 || !keyIdHex.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw new FormatException($"key id \"{keyIdHex}\" must be 8 lowercase hex digits");
        }
        uint keyId = uint.Parse(keyIdHex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        if (!NoteGrammar.TryDecodeBase64(keyBase64, out var key))
        {
            throw new FormatException("key is not canonical standard base64");
        }
        if (key[0] != AlgorithmEd25519)
        {
            throw new FormatException(
                $"unsupported signature algorithm 0x{key[0]:x2}; only Ed25519 (0x01) is supported");
        }
        if (key.Length != 1 + KeySize)
        {
            throw new FormatException($"Ed25519 key has {key.Length - 1} bytes, want {KeySize}");
        }
        return (name, keyId, key[1..]);
    }
}
