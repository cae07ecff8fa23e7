using System.Globalization;
using Tallystick.Merkle;

namespace Tallystick.Notes;

/// <summary>
/// A C2SP tlog-checkpoint: the log's origin, its tree size and the RFC 6962 root hash of that many leaves.
/// Its note text is <c>origin\nsize\nbase64(root)\n</c>, signed as a <see cref="SignedNote"/>.
/// The constructor validates: the origin is non-empty with no newline or other control character, the size is
/// not negative, and the root is exactly <see cref="Rfc6962.HashSize"/> bytes (otherwise
/// <see cref="ArgumentException"/>). The root array is not copied; do not modify it.
/// Equality compares the root's bytes, not the array reference.
/// </summary>
/// <param name="Origin">The log's unique identity line, e.g. <c>example.com/log</c>. Spaces are allowed.</param>
/// <param name="Size">The number of leaves the root covers; 0 for the empty tree.</param>
/// <param name="RootHash">The 32-byte RFC 6962 root hash for <paramref name="Size"/> leaves.</param>
public sealed record Checkpoint(string Origin, long Size, byte[] RootHash)
{
    /// <summary>The origin line (non-empty, no control characters).</summary>
    public string Origin { get; init => field = CheckOrigin(value); } = CheckOrigin(Origin);

    /// <summary>The tree size (not negative).</summary>
    public long Size { get; init => field = CheckSize(value); } = CheckSize(Size);

    /// <summary>The 32-byte root hash.</summary>
    public byte[] RootHash { get; init => field = CheckRoot(value); } = CheckRoot(RootHash);

    /// <summary>Formats the checkpoint body that gets signed: <c>origin\nsize\nbase64(root)\n</c>.</summary>
    /// <returns>The note text, ending in a newline, with no extension lines.</returns>
    public string ToNoteText() =>
        $"{Origin}\n{Size.ToString(CultureInfo.InvariantCulture)}\n{Convert.ToBase64String(RootHash)}\n";

    /// <summary>
    /// Parses checkpoint note text (the body of a signed note, not the signed note itself). Lines after the third
    /// are extension lines: each must be non-empty, and they are otherwise ignored.
    /// </summary>
    /// <param name="text">The note text, ending in a newline.</param>
    /// <returns>The checkpoint.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="FormatException">Fewer than three lines or no final newline; an empty origin; a control
    /// character; a size that is not plain decimal without leading zeros or that exceeds <see cref="long.MaxValue"/>;
    /// a root that is not canonical base64 of 32 bytes; an empty extension line. The message says which.</exception>
    public static Checkpoint ParseNoteText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? problem = NoteGrammar.CheckCharacters(text);
        if (problem is not null)
        {
            throw new FormatException($"invalid checkpoint: {problem}");
        }
        if (!text.EndsWith('\n'))
        {
            throw new FormatException("invalid checkpoint: text does not end with a newline");
        }
        var lines = text[..^1].Split('\n');
        if (lines.Length < 3)
        {
            throw new FormatException(
                $"invalid checkpoint: {lines.Length} line(s), want at least 3 (origin, size, root hash)");
        }
        if (lines[0].Length == 0)
        {
            throw new FormatException("invalid checkpoint: empty origin");
        }
        long size = ParseSize(lines[1]);
        if (!NoteGrammar.TryDecodeBase64(lines[2], out var root))
        {
            throw new FormatException($"invalid checkpoint: root hash \"{lines[2]}\" is not canonical base64");
        }
        if (root.Length != Rfc6962.HashSize)
        {
            throw new FormatException(
                $"invalid checkpoint: root hash has {root.Length} bytes, want {Rfc6962.HashSize}");
        }
        int emptyExtension = Array.IndexOf(lines, "", 3);
        if (emptyExtension >= 0)
        {
            throw new FormatException($"invalid checkpoint: extension line {emptyExtension + 1} is empty");
        }
        return new Checkpoint(lines[0], size, root);
    }

    /// <summary>
    /// Verifies a signed checkpoint note against the log's key and expected origin, then parses it.
    /// Never throws on a bad note.
    /// </summary>
    /// <param name="signedNote">The signed checkpoint as received.</param>
    /// <param name="verifier">The log's public key; its signature is required (see <see cref="SignedNote.Verify"/>).
    /// Its name need not equal the origin.</param>
    /// <param name="expectedOrigin">The origin the caller trusts this key for; compared ordinally.</param>
    /// <param name="checkpoint">The parsed checkpoint on success; null otherwise.</param>
    /// <returns>Valid, or invalid with the signature, format or origin problem.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static VerificationResult TryVerify(
        string signedNote, NoteVerifier verifier, string expectedOrigin, out Checkpoint? checkpoint)
    {
        ArgumentNullException.ThrowIfNull(expectedOrigin);
        checkpoint = null;
        var result = SignedNote.Verify(signedNote, verifier, out var text);
        if (!result.IsValid)
        {
            return result;
        }
        Checkpoint parsed;
        try
        {
            parsed = ParseNoteText(text);
        }
        catch (FormatException e)
        {
            return VerificationResult.Invalid(e.Message);
        }
        if (!string.Equals(parsed.Origin, expectedOrigin, StringComparison.Ordinal))
        {
            return VerificationResult.Invalid(
                $"checkpoint origin \"{parsed.Origin}\" does not match the expected origin \"{expectedOrigin}\"");
        }
        checkpoint = parsed;
        return VerificationResult.Valid;
    }

    /// <summary>Compares origin, size and the root's bytes.</summary>
    /// <param name="other">The checkpoint to compare with; may be null.</param>
    /// <returns>True when all three are equal.</returns>
    public bool Equals(Checkpoint? other) =>
        other is not null
        && string.Equals(Origin, other.Origin, StringComparison.Ordinal)
        && Size == other.Size
        && RootHash.AsSpan().SequenceEqual(other.RootHash);

    /// <summary>Hashes origin, size and the root's bytes, consistently with
    /// <see cref="Equals(Checkpoint?)"/>.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Origin, StringComparer.Ordinal);
        hash.Add(Size);
        hash.AddBytes(RootHash);
        return hash.ToHashCode();
    }

    /// <summary>Shows the checkpoint with its root in base64, for logs and assertion messages.</summary>
    /// <returns>A one-line description.</returns>
    public override string ToString() =>
        $"Checkpoint {{ Origin = {Origin}, Size = {Size}, RootHash = {Convert.ToBase64String(RootHash)} }}";

    private static long ParseSize(string line)
    {
        bool plainDecimal = line.Length > 0 && line.All(char.IsAsciiDigit) && (line.Length == 1 || line[0] != '0');
        if (!plainDecimal)
        {
            throw new FormatException(
                $"invalid checkpoint: size \"{line}\" is not a decimal number without sign or leading zeros");
        }
        if (!long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out long size))
        {
            throw new FormatException($"invalid checkpoint: size {line} exceeds {long.MaxValue}");
        }
        return size;
    }

    private static string CheckOrigin(string origin)
    {
        ArgumentNullException.ThrowIfNull(origin);
        string? problem = origin.Length == 0 ? "origin is empty" : NoteGrammar.CheckCharacters(origin);
        if (problem is null && origin.Contains('\n', StringComparison.Ordinal))
        {
            problem = "origin contains a newline";
        }
        return problem is null ? origin : throw new ArgumentException($"invalid checkpoint {problem}", nameof(origin));
    }

    private static long CheckSize(long size) =>
        size >= 0 ? size : throw new ArgumentOutOfRangeException(nameof(size), size, "tree size must not be negative");

    private static byte[] CheckRoot(byte[] root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return root.Length == Rfc6962.HashSize
            ? root
            : throw new ArgumentException($"root hash has {root.Length} bytes, want {Rfc6962.HashSize}", nameof(root));
    }
}
