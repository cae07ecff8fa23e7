using System.Globalization;
using System.Text;
using Tallystick.Merkle;
using Tallystick.Notes;

namespace Tallystick.Proofs;

/// <summary>
/// A C2SP <c>tlog-proof@v1</c> (https://c2sp.org/tlog-proof): an offline-verifiable proof that the log entry at
/// <see cref="Index"/> is included in the tree of a signed checkpoint. Its text form is
/// <code>
/// c2sp.org/tlog-proof@v1\n
/// [extra &lt;base64 opaque data&gt;\n]
/// index &lt;decimal, no leading zeros&gt;\n
/// &lt;base64 SHA-256 hash&gt;\n         (zero or more: the RFC 6962 inclusion proof, from the leaf's sibling up)
/// \n
/// &lt;signed checkpoint note, verbatim&gt;
/// </code>
/// This type only carries and checks the syntax; the checkpoint's signature and the inclusion are verified by the
/// caller (see <see cref="ProofBundleVerifier"/>), because only the caller knows the trusted key and the leaf.
/// Immutable once constructed (arrays are copied in and never exposed for writing); thread-safe.
/// docs/proof-spec.md ("Proof bundles") documents the grammar as read here.
/// </summary>
public sealed class TlogProof
{
    /// <summary>The mandatory first line.</summary>
    public const string Header = "c2sp.org/tlog-proof@v1";

    /// <summary>The most inclusion-proof hashes a proof may carry: a tree of at most 2^63 − 1 leaves never needs
    /// more than 63. More is malformed, so a hostile proof cannot make verification slow.</summary>
    public const int HashesMax = 63;

    /// <summary>The longest proof text accepted by <see cref="TryParse"/>, in characters. A proof with the maximum
    /// number of hashes and a checkpoint with many cosignatures stays far below it.</summary>
    public const int TextCharsMax = 64 * 1024;

    private const string ExtraPrefix = "extra ";
    private const string IndexPrefix = "index ";

    private readonly byte[][] hashes;
    private readonly byte[]? extra;

    /// <summary>Creates a proof from its parts.</summary>
    /// <param name="index">The 0-based index of the entry in the log; not negative.</param>
    /// <param name="hashes">The inclusion proof, from the leaf's sibling upward; at most <see cref="HashesMax"/>
    /// elements of <see cref="Rfc6962.HashSize"/> bytes each. Copied.</param>
    /// <param name="checkpoint">The signed checkpoint note as the log issued it: non-empty, ending in a newline,
    /// without control characters other than newline, and not starting with a newline.</param>
    /// <param name="extra">Optional opaque extra data (unauthenticated); null for none, otherwise non-empty. Copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="hashes"/>, an element, or
    /// <paramref name="checkpoint"/> is null.</exception>
    /// <exception cref="ArgumentException">An argument breaks the rules above; the message says which.</exception>
    public TlogProof(long index, IReadOnlyList<byte[]> hashes, string checkpoint, byte[]? extra = null)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (hashes.Count > HashesMax)
        {
            throw new ArgumentException($"{hashes.Count} proof hashes, at most {HashesMax}", nameof(hashes));
        }
        var copies = new byte[hashes.Count][];
        for (int i = 0; i < copies.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(hashes[i], $"{nameof(hashes)}[{i}]");
            if (hashes[i].Length != Rfc6962.HashSize)
            {
                throw new ArgumentException(
                    $"hashes[{i}] has {hashes[i].Length} bytes, want {Rfc6962.HashSize}", nameof(hashes));
            }
            copies[i] = (byte[])hashes[i].Clone();
        }
        if (CheckCheckpoint(checkpoint) is { } problem)
        {
            throw new ArgumentException(problem, nameof(checkpoint));
        }
        if (extra is { Length: 0 })
        {
            throw new ArgumentException("extra data must be null or non-empty", nameof(extra));
        }
        Index = index;
        this.hashes = copies;
        Hashes = Array.AsReadOnly(copies);
        Checkpoint = checkpoint;
        this.extra = extra is null ? null : (byte[])extra.Clone();
    }

    /// <summary>The 0-based index of the proven entry.</summary>
    public long Index { get; }

    /// <summary>The inclusion proof hashes, leaf's sibling first. The arrays must not be modified.</summary>
    public IReadOnlyList<byte[]> Hashes { get; }

    /// <summary>The signed checkpoint note, verbatim (body, blank line, signature lines).</summary>
    public string Checkpoint { get; }

    /// <summary>A copy of the opaque extra data, or null when the proof has none. Not authenticated by anything:
    /// never trust it.</summary>
    public byte[]? Extra => extra is null ? null : (byte[])extra.Clone();

    /// <summary>Formats the proof text (the exact inverse of <see cref="TryParse"/>).</summary>
    /// <returns>The text, ending with the checkpoint's final newline.</returns>
    public string Format()
    {
        var text = new StringBuilder(64 + (hashes.Length * 45) + Checkpoint.Length);
        text.Append(Header).Append('\n');
        if (extra is not null)
        {
            text.Append(ExtraPrefix).Append(Convert.ToBase64String(extra)).Append('\n');
        }
        text.Append(IndexPrefix).Append(Index.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var hash in hashes)
        {
            text.Append(Convert.ToBase64String(hash)).Append('\n');
        }
        return text.Append('\n').Append(Checkpoint).ToString();
    }

    /// <summary>Returns <see cref="Format"/>.</summary>
    /// <returns>The proof text.</returns>
    public override string ToString() => Format();

    /// <summary>
    /// Parses proof text strictly. Lines are separated by '\n' only (a '\r' is a control character and refused).
    /// The header must be exact; an <c>extra</c> line, if present, must carry canonical non-empty base64; the index
    /// is plain decimal (no sign, no leading zeros unless it is <c>0</c>, at most <see cref="long.MaxValue"/>);
    /// each proof line is the canonical padded base64 of exactly 32 bytes, at most <see cref="HashesMax"/> of them;
    /// then one empty line and the checkpoint note, which must be non-empty, end in a newline and contain no other
    /// control character. The checkpoint's signature is not checked here.
    /// </summary>
    /// <param name="text">The proof text; at most <see cref="TextCharsMax"/> characters.</param>
    /// <param name="proof">The parsed proof on success; null otherwise.</param>
    /// <param name="error">On failure, a precise reason naming the line, e.g.
    /// <c>"line 3: index \"007\" has leading zeros"</c>; null on success.</param>
    /// <returns>True when the text is a well-formed proof.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public static bool TryParse(string text, out TlogProof? proof, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        error = Parse(text, out proof);
        return error is null;
    }

    /// <summary>Parses proof text like <see cref="TryParse"/>, throwing on malformed text.</summary>
    /// <param name="text">The proof text.</param>
    /// <returns>The proof.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="FormatException">The text is malformed; the message is the reason
    /// <see cref="TryParse"/> gives.</exception>
    public static TlogProof Parse(string text) =>
        TryParse(text, out var proof, out var error) ? proof! : throw new FormatException($"invalid tlog-proof: {error}");

    private static string? Parse(string text, out TlogProof? proof)
    {
        proof = null;
        if (text.Length > TextCharsMax)
        {
            return $"{text.Length} characters, at most {TextCharsMax}";
        }
        if (NoteGrammar.CheckCharacters(text) is { } characters)
        {
            return characters;
        }
        int position = 0;
        int lineNumber = 0;
        if (!NextLine(text, ref position, ref lineNumber, out var line) || !string.Equals(line, Header, StringComparison.Ordinal))
        {
            return $"line 1 is not \"{Header}\"";
        }
        if (!NextLine(text, ref position, ref lineNumber, out line))
        {
            return "no index line";
        }
        byte[]? extra = null;
        if (line.StartsWith(ExtraPrefix, StringComparison.Ordinal))
        {
            if (!NoteGrammar.TryDecodeBase64(line[ExtraPrefix.Length..], out extra))
            {
                return $"line {lineNumber}: extra data is not canonical non-empty base64";
            }
            if (!NextLine(text, ref position, ref lineNumber, out line))
            {
                return "no index line";
            }
        }
        if (ParseIndex(line, lineNumber, out long index) is { } badIndex)
        {
            return badIndex;
        }
        var hashes = new List<byte[]>();
        while (true)
        {
            if (!NextLine(text, ref position, ref lineNumber, out line))
            {
                return "no empty line before the checkpoint";
            }
            if (line.Length == 0)
            {
                break;
            }
            if (hashes.Count == HashesMax)
            {
                return $"more than {HashesMax} proof hashes";
            }
            if (!NoteGrammar.TryDecodeBase64(line, out var hash) || hash.Length != Rfc6962.HashSize)
            {
                return $"line {lineNumber}: not the canonical base64 of a {Rfc6962.HashSize}-byte hash";
            }
            hashes.Add(hash);
        }
        var checkpoint = text[position..];
        if (CheckCheckpoint(checkpoint) is { } badCheckpoint)
        {
            return badCheckpoint;
        }
        proof = new TlogProof(index, hashes, checkpoint, extra);
        return null;
    }

    // Reads the next '\n'-terminated line; false at the end of the text or when the last line has no newline.
    private static bool NextLine(string text, ref int position, ref int lineNumber, out string line)
    {
        int end = text.IndexOf('\n', position);
        if (end < 0)
        {
            line = "";
            return false;
        }
        line = text[position..end];
        position = end + 1;
        lineNumber++;
        return true;
    }

    private static string? ParseIndex(string line, int lineNumber, out long index)
    {
        index = 0;
        if (!line.StartsWith(IndexPrefix, StringComparison.Ordinal))
        {
            return $"line {lineNumber}: expected \"index <N>\"";
        }
        var digits = line.AsSpan(IndexPrefix.Length);
        if (digits.Length == 0 || digits.ContainsAnyExceptInRange('0', '9'))
        {
            return $"line {lineNumber}: index \"{digits}\" is not a decimal number";
        }
        if (digits.Length > 1 && digits[0] == '0')
        {
            return $"line {lineNumber}: index \"{digits}\" has leading zeros";
        }
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out index))
        {
            return $"line {lineNumber}: index {digits} exceeds {long.MaxValue}";
        }
        return null;
    }

    private static string? CheckCheckpoint(string checkpoint)
    {
        if (checkpoint.Length == 0)
        {
            return "the checkpoint is empty";
        }
        if (checkpoint[0] == '\n')
        {
            return "more than one empty line before the checkpoint";
        }
        if (!checkpoint.EndsWith('\n'))
        {
            return "the checkpoint does not end with a newline";
        }
        return NoteGrammar.CheckCharacters(checkpoint) is { } problem ? $"checkpoint: {problem}" : null;
    }
}
