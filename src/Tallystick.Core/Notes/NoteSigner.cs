using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Tallystick.Notes;

/// <summary>
/// An Ed25519 signed-note signing key (C2SP signed-note, type 0x01). Its text form is the Go sumdb format
/// <c>PRIVATE+KEY+&lt;name&gt;+&lt;8 hex key ID&gt;+&lt;base64(0x01 || 32-byte seed)&gt;</c>. Ed25519 is
/// deterministic, so signing the same text twice gives the same bytes. Immutable and thread-safe.
/// <see cref="ToString"/> never reveals the private key; only <see cref="PrivateKeyText"/> does.
/// </summary>
public sealed class NoteSigner
{
    private const string PrivatePrefix = "PRIVATE";
    private const string KeyPrefix = "KEY";

    private readonly Ed25519PrivateKeyParameters privateKey;

    private NoteSigner(string name, byte[] seed)
    {
        privateKey = new Ed25519PrivateKeyParameters(seed, 0);
        var publicKey = privateKey.GeneratePublicKey().GetEncoded();
        uint keyId = NoteVerifier.ComputeKeyId(name, publicKey);
        Verifier = new NoteVerifier(name, keyId, publicKey);
        var encoded = new byte[1 + NoteVerifier.KeySize];
        encoded[0] = NoteVerifier.AlgorithmEd25519;
        seed.CopyTo(encoded, 1);
        PrivateKeyText = $"{PrivatePrefix}+{KeyPrefix}+{name}+{keyId:x8}+{Convert.ToBase64String(encoded)}";
    }

    /// <summary>The key name written on each signature line.</summary>
    public string Name => Verifier.Name;

    /// <summary>The key ID (see <see cref="NoteVerifier.ComputeKeyId"/>).</summary>
    public uint KeyId => Verifier.KeyId;

    /// <summary>The private key text, which <see cref="Parse"/> accepts back. It is the secret: keep it out of
    /// logs.</summary>
    public string PrivateKeyText { get; }

    /// <summary>The matching public key, for publishing as a vkey.</summary>
    public NoteVerifier Verifier { get; }

    /// <summary>Creates a new key with a seed from <see cref="RandomNumberGenerator"/>.</summary>
    /// <param name="name">The key name; non-empty, with no spaces, '+' or control characters. For a checkpoint
    /// signer it should equal the log's origin line.</param>
    /// <returns>The new signer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid key name.</exception>
    public static NoteSigner Generate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!NoteGrammar.IsValidName(name))
        {
            throw new ArgumentException(NoteGrammar.DescribeInvalidName(name), nameof(name));
        }
        var seed = RandomNumberGenerator.GetBytes(NoteVerifier.KeySize);
        try
        {
            return new NoteSigner(name, seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Parses a private key such as
    /// <c>PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz</c>.</summary>
    /// <param name="privateKey">The private key text; split on '+' into at most five fields, since the base64
    /// key may itself contain '+'.</param>
    /// <returns>The signer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="privateKey"/> is null.</exception>
    /// <exception cref="FormatException">The text does not start with <c>PRIVATE+KEY+</c>; the name, key ID or
    /// base64 is malformed; the algorithm is not Ed25519; the seed is not 32 bytes; or the key ID does not match
    /// the name and derived public key. The message never contains the key itself.</exception>
    public static NoteSigner Parse(string privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        var fields = privateKey.Split('+', 5);
        if (fields.Length != 5
            || !string.Equals(fields[0], PrivatePrefix, StringComparison.Ordinal)
            || !string.Equals(fields[1], KeyPrefix, StringComparison.Ordinal))
        {
            throw new FormatException("private key must have the form PRIVATE+KEY+<name>+<key id>+<base64 key>");
        }
        var (name, keyId, seed) = NoteVerifier.ParseKeyFields(fields[2], fields[3], fields[4]);
        try
        {
            var signer = new NoteSigner(name, seed);
            if (signer.KeyId != keyId)
            {
                throw new FormatException(
                    $"key id {keyId:x8} does not match the key (computed {signer.KeyId:x8})");
            }
            return signer;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Signs note text and returns the complete signed note:
    /// <c>text + "\n" + "— " + name + " " + base64(key ID (4 bytes, big-endian) || signature) + "\n"</c>.</summary>
    /// <param name="text">The note text. It must end with '\n', contain no control character other than '\n',
    /// and be well-formed UTF-16; the signature covers its UTF-8 bytes, final newline included.</param>
    /// <returns>The signed note, verifiable with <see cref="SignedNote.Verify"/> and <see cref="Verifier"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="text"/> is not valid note text.</exception>
    public string Sign(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? problem = NoteGrammar.CheckCharacters(text)
            ?? (text.EndsWith('\n') ? null : "note text must end with a newline");
        if (problem is not null)
        {
            throw new ArgumentException($"invalid note text: {problem}", nameof(text));
        }

        var message = Encoding.UTF8.GetBytes(text);
        var signer = new Ed25519Signer();
        signer.Init(true, privateKey);
        signer.BlockUpdate(message, 0, message.Length);
        var signature = signer.GenerateSignature();

        var blob = new byte[4 + signature.Length];
        BinaryPrimitives.WriteUInt32BigEndian(blob, KeyId);
        signature.CopyTo(blob, 4);
        return $"{text}\n{NoteGrammar.SignaturePrefix}{Name} {Convert.ToBase64String(blob)}\n";
    }

    /// <summary>Describes the key by its public half only.</summary>
    /// <returns>"NoteSigner " followed by the vkey text.</returns>
    public override string ToString() => $"NoteSigner {Verifier.VerifierKeyText}";
}
