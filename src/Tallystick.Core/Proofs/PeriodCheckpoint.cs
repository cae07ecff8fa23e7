using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Tallystick.Merkle;
using Tallystick.Notes;

namespace Tallystick.Proofs;

/// <summary>
/// What a period checkpoint states, signed by the log and anchored in it: "the verified deltas of customer
/// <see cref="CustomerReference"/> with sequence numbers in [<see cref="FromSequence"/>, <see cref="ToSequence"/>)
/// have the RFC 6962 root <see cref="ProofRoot"/> over their item hashes in sequence order, and move the balance
/// from <see cref="StartingBalance"/> to <see cref="EndingBalance"/>". Specified in docs/proof-spec.md ("Period
/// checkpoints"); golden files pin the text and the log entry.
/// </summary>
/// <remarks>
/// The statement text is a signed-note body of exactly these lines, each ending in a newline:
/// <code>
/// tallystick.period-checkpoint.v1
/// customer 0x&lt;40 hex&gt;
/// sequences &lt;from&gt; &lt;to&gt;         (to exclusive; the window holds to − from deltas)
/// balances &lt;starting&gt; &lt;ending&gt;   (exact decimals, as in item bytes)
/// root 0x&lt;64 hex&gt;
/// anchored &lt;unix ms&gt; &lt;log index&gt;
/// </code>
/// Its first line is never a log origin, so the note can never be mistaken for a tree checkpoint signed by the same
/// key. The log carries only <see cref="LogEntry"/>, a one-way commitment to the text: the proof root stays a read
/// capability.
/// </remarks>
public sealed record PeriodCheckpoint(
    string CustomerReference,
    long FromSequence,
    long ToSequence,
    Amount StartingBalance,
    Amount EndingBalance,
    byte[] ProofRoot,
    long AnchoredAtUnixMs,
    long LogIndex)
{
    /// <summary>The first line of every statement in this format.</summary>
    public const string FormatLine = "tallystick.period-checkpoint.v1";

    /// <summary>The log entry type of a period-checkpoint commitment.</summary>
    public const byte EntryType = 0x02;

    /// <summary>Length in bytes of the log entry.</summary>
    public const int EntryLength = 1 + 8 + 32;

    /// <summary>The domain-separation prefix hashed before the statement text.</summary>
    public static ReadOnlySpan<byte> CommitmentPrefix => "tallystick/checkpoint-commitment/v1\n"u8;

    /// <summary>Deltas in the window.</summary>
    public long DeltaCount => ToSequence - FromSequence;

    /// <summary>The statement text (note body), ending in a newline.</summary>
    public string ToText() => string.Create(CultureInfo.InvariantCulture,
        $"{FormatLine}\ncustomer {CustomerReference}\nsequences {FromSequence} {ToSequence}\n" +
        $"balances {StartingBalance} {EndingBalance}\nroot 0x{Convert.ToHexStringLower(ProofRoot)}\n" +
        $"anchored {AnchoredAtUnixMs} {LogIndex}\n");

    /// <summary>
    /// The log entry: <c>0x02 ‖ u64be(anchoredAt) ‖ SHA-256("tallystick/checkpoint-commitment/v1\n" ‖ UTF-8(text))</c>.
    /// </summary>
    public byte[] LogEntry()
    {
        var text = Encoding.UTF8.GetBytes(ToText());
        var preimage = new byte[CommitmentPrefix.Length + text.Length];
        CommitmentPrefix.CopyTo(preimage);
        text.CopyTo(preimage, CommitmentPrefix.Length);
        var entry = new byte[EntryLength];
        entry[0] = EntryType;
        BinaryPrimitives.WriteInt64BigEndian(entry.AsSpan(1, 8), AnchoredAtUnixMs);
        Merkle.Sha256.Hash(preimage, entry.AsSpan(9, 32));
        return entry;
    }

    /// <summary>Parses statement text strictly (exactly the format of <see cref="ToText"/>); null when malformed.</summary>
    public static PeriodCheckpoint? TryParse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        if (lines.Length != 7 || lines[6].Length != 0 || lines[0] != FormatLine)
        {
            return null;
        }
        var customer = Field(lines[1], "customer", 1);
        var sequences = Field(lines[2], "sequences", 2);
        var balances = Field(lines[3], "balances", 2);
        var root = Field(lines[4], "root", 1);
        var anchored = Field(lines[5], "anchored", 2);
        if (customer is null || sequences is null || balances is null || root is null || anchored is null ||
            !IsHex(customer[0], 40) || !IsHex(root[0], 64) ||
            !Integer(sequences[0], out var from) || !Integer(sequences[1], out var to) || to < from ||
            !Amount.TryParse(balances[0], out var starting) || !Amount.TryParse(balances[1], out var ending) ||
            !Integer(anchored[0], out var at) || !Integer(anchored[1], out var index))
        {
            return null;
        }
        var parsed = new PeriodCheckpoint(customer[0], from, to, starting, ending,
            Convert.FromHexString(root[0].AsSpan(2)), at, index);
        // Canonical form only: one text per statement, so the signed bytes and the parsed values agree exactly.
        return parsed.ToText() == text ? parsed : null;
    }

    private static string[]? Field(string line, string name, int values)
    {
        var parts = line.Split(' ');
        return parts.Length == values + 1 && parts[0] == name ? parts[1..] : null;
    }

    private static bool IsHex(string value, int digits) =>
        value.Length == digits + 2 && value.StartsWith("0x", StringComparison.Ordinal) &&
        value.AsSpan(2).IndexOfAnyExcept(LowerHex) < 0;

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    private static bool Integer(string value, out long result) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result) &&
        result.ToString(CultureInfo.InvariantCulture) == value;
}

/// <summary>
/// A proof token: a period checkpoint statement signed by the log, as one compact URL-safe string for an invoice:
/// <c>tpt1_</c> + base64url (no padding) of the signed note. Verifying it offline needs only the log's verifier key
/// and proves the log issued the statement; its <c>anchored</c> line names the log index whose inclusion
/// <c>GET /api/v1/verify/{token}</c> (the token itself, or its root) proves online in one call, with the window's
/// deltas, or <c>/log/proof/inclusion</c> proves alone.
/// </summary>
public static class ProofToken
{
    /// <summary>The prefix of every token in this format.</summary>
    public const string Prefix = "tpt1_";

    /// <summary>The longest token accepted, in characters.</summary>
    public const int TokenCharsMax = 4096;

    /// <summary>Encodes a signed statement note as a token.</summary>
    public static string Encode(string signedNote)
    {
        ArgumentNullException.ThrowIfNull(signedNote);
        return Prefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(signedNote))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>
    /// Verifies a token against the log's key. Never throws on bad input: returns the statement, or null and a
    /// precise reason.
    /// </summary>
    public static PeriodCheckpoint? Verify(string token, NoteVerifier logKey, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(logKey);
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > TokenCharsMax)
        {
            failure = $"not a proof token: it must start with '{Prefix}' and be at most {TokenCharsMax} characters";
            return null;
        }
        string note;
        try
        {
            var body = token[Prefix.Length..].Replace('-', '+').Replace('_', '/');
            body += new string('=', (4 - body.Length % 4) % 4);
            note = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(body));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            failure = "the token is not base64url of UTF-8 text";
            return null;
        }
        var signature = SignedNote.Verify(note, logKey, out var text);
        if (!signature.IsValid)
        {
            failure = $"the token's signature does not verify with {logKey.Name}: {signature.Error}";
            return null;
        }
        var statement = PeriodCheckpoint.TryParse(text);
        failure = statement is null ? "the signed text is not a period-checkpoint statement" : null;
        return statement;
    }

    /// <summary>The RFC 6962 root a period checkpoint states for these item hashes (in sequence order).</summary>
    public static byte[] RootOf(IReadOnlyList<byte[]> itemHashes) => MerkleTree.RootFromLeafHashes(itemHashes);
}
