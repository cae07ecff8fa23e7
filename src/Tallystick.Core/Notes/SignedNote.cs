using System.Buffers.Binary;
using System.Text;
using Tallystick.Merkle;

namespace Tallystick.Notes;

/// <summary>
/// Opens C2SP signed notes (the format of golang.org/x/mod sumdb/note): note text, a blank line, then
/// signature lines <c>— &lt;key name&gt; &lt;base64(4-byte key ID || signature)&gt;</c>. Verification follows
/// the reference implementation: the split is at the last blank line, signatures from unknown keys are ignored,
/// a signature from the known key must verify, and at least one must. Pure and thread-safe.
/// </summary>
public static class SignedNote
{
    /// <summary>The most signature lines a note may have, as in Go's sumdb/note; more is treated as malformed so
    /// that a hostile note cannot make verification slow.</summary>
    public const int SignaturesMax = 100;

    /// <summary>
    /// Verifies a signed note against one known key and returns its text. Never throws on a bad note.
    /// </summary>
    /// <param name="note">The whole signed note, as received.</param>
    /// <param name="verifier">The key whose signature is required. Signatures whose name and key ID both match it
    /// are checked (a repeated one is ignored); all others are skipped.</param>
    /// <param name="text">On success, the note text up to and including its final newline, without the blank
    /// separator line; on failure, the empty string.</param>
    /// <returns>Valid; or invalid with a reason: "malformed note: …" for a note that does not follow the grammar
    /// (control characters, no blank line, a line that is not a signature, bad base64, more than
    /// <see cref="SignaturesMax"/> signatures), a failed signature from the known key, or no signature from
    /// it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="note"/> or <paramref name="verifier"/> is
    /// null.</exception>
    public static VerificationResult Verify(string note, NoteVerifier verifier, out string text)
    {
        ArgumentNullException.ThrowIfNull(note);
        ArgumentNullException.ThrowIfNull(verifier);
        text = "";
        string? problem = NoteGrammar.CheckCharacters(note);
        if (problem is not null)
        {
            return Malformed(problem);
        }
        int split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            return Malformed("no blank line before the signature block");
        }
        string body = note[..(split + 1)];
        string block = note[(split + 2)..];
        if (block.Length == 0)
        {
            return Malformed("no signature lines after the blank line");
        }
        if (!block.EndsWith('\n'))
        {
            return Malformed("the last signature line does not end with a newline");
        }
        var lines = block[..^1].Split('\n');
        if (lines.Length > SignaturesMax)
        {
            return Malformed($"{lines.Length} signature lines, at most {SignaturesMax} allowed");
        }

        var result = CheckSignatures(lines, Encoding.UTF8.GetBytes(body), verifier);
        if (result.IsValid)
        {
            text = body;
        }
        return result;
    }

    private static VerificationResult CheckSignatures(string[] lines, byte[] message, NoteVerifier verifier)
    {
        bool verified = false;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (!line.StartsWith(NoteGrammar.SignaturePrefix, StringComparison.Ordinal))
            {
                return Malformed($"line {i + 1} of the signature block does not start with \"\u2014 \"");
            }
            var fields = line[NoteGrammar.SignaturePrefix.Length..].Split(' ', 2);
            string name = fields[0];
            if (!NoteGrammar.IsValidName(name))
            {
                return Malformed($"signature line {i + 1}: {NoteGrammar.DescribeInvalidName(name)}");
            }
            if (fields.Length != 2 || !NoteGrammar.TryDecodeBase64(fields[1], out var blob) || blob.Length < 5)
            {
                return Malformed($"signature line {i + 1}: not the canonical base64 of a key id and a signature");
            }
            uint keyId = BinaryPrimitives.ReadUInt32BigEndian(blob);

            // A signature by any other key is none of our business (C2SP: unknown keys MUST be ignored), and a
            // repeated signature by the known key is dropped as Go does.
            bool isKnownKey = keyId == verifier.KeyId && string.Equals(name, verifier.Name, StringComparison.Ordinal);
            if (!isKnownKey || verified)
            {
                continue;
            }
            if (!verifier.Verify(message, blob[4..]))
            {
                return VerificationResult.Invalid($"invalid signature by {name}+{keyId:x8}");
            }
            verified = true;
        }
        return verified
            ? VerificationResult.Valid
            : VerificationResult.Invalid(
                $"no signature by {verifier.Name}+{verifier.KeyId:x8} among {lines.Length} signature line(s)");
    }

    private static VerificationResult Malformed(string reason) =>
        VerificationResult.Invalid($"malformed note: {reason}");
}
