using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Tallystick.Canonical;
using Tallystick.Deltas;
using Tallystick.Merkle;
using Tallystick.Notes;

namespace Tallystick.Proofs;

/// <summary>
/// Verifies a <see cref="ProofBundle"/> offline, given only the log's public key. The checks run in the order of
/// <see cref="ProofBundleStep"/> and stop at the first failure (docs/proof-spec.md "Proof bundles" is the normative
/// description): the bundle is well-formed; it names the trusted log key; its item bytes say exactly what it
/// displays; they hash to <c>itemHash</c>; <c>itemPath</c> leads to <c>receiptId</c>; <c>logLeaf</c> is the receipt
/// entry of <c>receiptId</c> at <c>receivedAt</c>; the tlog-proof's checkpoint is signed by the trusted key for the
/// key's origin; and the entry is included at <c>logIndex</c> in that checkpoint's tree.
/// Thread-safe and free of observable state: the only memory is a cache of the last checkpoint note each key
/// verified, which spares repeating the Ed25519 check (the bulk of the cost) for bundles under the same checkpoint.
/// Never throws on a bad bundle: every failure is a value.
/// </summary>
public static class ProofBundleVerifier
{
    private const int ItemPathHashesMax = TlogProof.HashesMax;
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
    private const int SaltHexChars = DeltaItem.SaltBytes * 2;

    // The largest valid item is under 10 KiB (4 KiB of metadata, 500 reason and 256 referenceId scalars of up to
    // 4 bytes, fixed members); its base64 is under 14 Ki characters. Anything longer is refused before decoding.
    private const int CanonicalItemCharsMax = 32 * 1024;

    private static readonly SearchValues<char> LowerHexDigits = SearchValues.Create("0123456789abcdef");

    /// <summary>Verifies every link of the bundle.</summary>
    /// <param name="bundle">The bundle as received (untrusted; any member may be null or wrong).</param>
    /// <param name="trustedLogKey">The log key the caller trusts, obtained independently of the bundle. Its name
    /// is the log's origin, which the checkpoint must carry.</param>
    /// <returns>Valid with the proving checkpoint, or the first failed step and why.</returns>
    /// <exception cref="ArgumentNullException">An argument is null (a caller bug, not a bad bundle).</exception>
    public static ProofBundleVerification Verify(ProofBundle bundle, NoteVerifier trustedLogKey)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(trustedLogKey);
        if (Decode(bundle, out var decoded) is { } malformed)
        {
            return ProofBundleVerification.Invalid(ProofBundleStep.Format, malformed);
        }
        if (!string.Equals(bundle.LogKey, trustedLogKey.VerifierKeyText, StringComparison.Ordinal))
        {
            return ProofBundleVerification.Invalid(ProofBundleStep.LogKey,
                $"the bundle names log key \"{bundle.LogKey}\", but the trusted key is \"{trustedLogKey.VerifierKeyText}\"");
        }
        if (CheckItemFields(bundle, decoded) is { } fields)
        {
            return ProofBundleVerification.Invalid(ProofBundleStep.ItemFields, fields);
        }
        Span<byte> itemHash = stackalloc byte[Rfc6962.HashSize];
        Rfc6962.HashLeaf(decoded.Item, itemHash);
        if (!itemHash.SequenceEqual(decoded.ItemHash))
        {
            return ProofBundleVerification.Invalid(ProofBundleStep.ItemHash,
                $"canonicalItem hashes to {Hex(itemHash)}, but itemHash is {bundle.ItemHash}");
        }
        var path = MerkleProof.VerifyInclusion(
            bundle.ItemIndex, bundle.ItemCount, decoded.ItemHash, decoded.ItemPath, decoded.ReceiptId);
        if (!path.IsValid)
        {
            return ProofBundleVerification.Invalid(ProofBundleStep.ItemPath,
                $"itemPath does not lead from item {bundle.ItemIndex} of {bundle.ItemCount} to receiptId: {path.Error}");
        }
        if (CheckLogLeaf(decoded) is { } leaf)
        {
            return ProofBundleVerification.Invalid(ProofBundleStep.LogLeaf, leaf);
        }
        var signed = VerifyCheckpoint(decoded.Proof.Checkpoint, trustedLogKey, out var checkpoint);
        if (!signed.IsValid)
        {
            return ProofBundleVerification.Invalid(ProofBundleStep.Checkpoint, $"tlogProof checkpoint: {signed.Error}");
        }
        return CheckLogInclusion(bundle, decoded, checkpoint!);
    }

    // Verifying a signed checkpoint is a pure function of (key, note text), and the Ed25519 check costs far more than
    // every other step together. Bundles usually come in runs under one checkpoint (all of a customer's deltas
    // against the latest one), so each key remembers the last note it verified. The entry is replaced atomically,
    // lives as long as the key object, and callers only ever get copies of it.
    private static readonly ConditionalWeakTable<NoteVerifier, VerifiedNote> LastVerified = new();

    private sealed record VerifiedNote(string Note, Checkpoint Checkpoint);

    private static VerificationResult VerifyCheckpoint(string note, NoteVerifier key, out Checkpoint? checkpoint)
    {
        if (LastVerified.TryGetValue(key, out var last) && string.Equals(last.Note, note, StringComparison.Ordinal))
        {
            checkpoint = Copy(last.Checkpoint);
            return VerificationResult.Valid;
        }
        var result = Checkpoint.TryVerify(note, key, key.Name, out checkpoint);
        if (result.IsValid)
        {
            LastVerified.AddOrUpdate(key, new VerifiedNote(note, Copy(checkpoint!)));
        }
        return result;
    }

    private static Checkpoint Copy(Checkpoint checkpoint) =>
        checkpoint with { RootHash = (byte[])checkpoint.RootHash.Clone() };

    private static ProofBundleVerification CheckLogInclusion(ProofBundle bundle, Decoded decoded, Checkpoint checkpoint)
    {
        if (bundle.LogIndex != decoded.Proof.Index)
        {
            return ProofBundleVerification.Invalid(ProofBundleStep.LogInclusion,
                $"logIndex is {bundle.LogIndex}, but the tlogProof proves index {decoded.Proof.Index}");
        }
        Span<byte> leafHash = stackalloc byte[Rfc6962.HashSize];
        Rfc6962.HashLeaf(decoded.LogLeaf, leafHash);
        var included = MerkleProof.VerifyInclusion(
            decoded.Proof.Index, checkpoint.Size, leafHash, decoded.Proof.Hashes, checkpoint.RootHash);
        return included.IsValid
            ? ProofBundleVerification.Valid(checkpoint)
            : ProofBundleVerification.Invalid(ProofBundleStep.LogInclusion,
                $"logLeaf is not included at index {decoded.Proof.Index} in the checkpoint of size {checkpoint.Size}: " +
                included.Error);
    }

    private readonly record struct Decoded(
        byte[] Item, byte[] ItemHash, byte[][] ItemPath, byte[] ReceiptId, byte[] LogLeaf, byte[] Salt,
        long ReceivedAtUnixMs, TlogProof Proof);

    // Checks the shape of every member and decodes the byte strings; returns why the bundle is malformed, or null.
    private static string? Decode(ProofBundle bundle, out Decoded decoded)
    {
        decoded = default;
        if (!string.Equals(bundle.Version, ProofBundle.FormatVersion, StringComparison.Ordinal))
        {
            return $"version is \"{bundle.Version}\", want \"{ProofBundle.FormatVersion}\"";
        }
        string? missing = bundle.RecordId is null ? "recordId"
            : bundle.CustomerId is null ? "customerId"
            : bundle.CustomerReference is null ? "customerReference"
            : bundle.Reason is null ? "reason"
            : bundle.LogKey is null ? "logKey"
            : null;
        if (missing is not null)
        {
            return $"{missing} is missing";
        }
        if (bundle.Salt is not { Length: SaltHexChars } || bundle.Salt.AsSpan().ContainsAnyExcept(LowerHexDigits))
        {
            return $"salt is not {SaltHexChars} lowercase hex digits";
        }
        if (ParseTimestamp(bundle.ReceivedAt) is not { } receivedAt)
        {
            return $"receivedAt \"{bundle.ReceivedAt}\" is not a UTC time of the form yyyy-MM-ddTHH:mm:ss.fffZ";
        }
        if (bundle.CanonicalItem is { Length: > CanonicalItemCharsMax })
        {
            return $"canonicalItem has {bundle.CanonicalItem.Length} characters, at most {CanonicalItemCharsMax}";
        }
        if (bundle.CanonicalItem is null || !NoteGrammar.TryDecodeBase64(bundle.CanonicalItem, out var item))
        {
            return "canonicalItem is not canonical base64";
        }
        if (bundle.LogLeaf is null || !NoteGrammar.TryDecodeBase64(bundle.LogLeaf, out var logLeaf))
        {
            return "logLeaf is not canonical base64";
        }
        if (DecodeHash(bundle.ItemHash) is not { } itemHash)
        {
            return "itemHash is not 0x followed by 64 lowercase hex digits";
        }
        if (DecodeHash(bundle.ReceiptId) is not { } receiptId)
        {
            return "receiptId is not 0x followed by 64 lowercase hex digits";
        }
        if (DecodeItemPath(bundle.ItemPath, out var itemPath) is { } badPath)
        {
            return badPath;
        }
        if (bundle.TlogProof is null)
        {
            return "tlogProof is missing";
        }
        if (!TlogProof.TryParse(bundle.TlogProof, out var proof, out var proofError))
        {
            return $"tlogProof: {proofError}";
        }
        decoded = new Decoded(item, itemHash, itemPath, receiptId, logLeaf,
            Convert.FromHexString(bundle.Salt), receivedAt, proof!);
        return null;
    }

    private static string? DecodeItemPath(IReadOnlyList<string>? hexes, out byte[][] path)
    {
        path = [];
        if (hexes is null)
        {
            return "itemPath is missing";
        }
        if (hexes.Count > ItemPathHashesMax)
        {
            return $"itemPath has {hexes.Count} hashes, at most {ItemPathHashesMax}";
        }
        var hashes = new byte[hexes.Count][];
        for (int i = 0; i < hashes.Length; i++)
        {
            if (DecodeHash(hexes[i]) is not { } hash)
            {
                return $"itemPath[{i}] is not 0x followed by 64 lowercase hex digits";
            }
            hashes[i] = hash;
        }
        path = hashes;
        return null;
    }

    // The item bytes rebuilt from the displayed members must equal canonicalItem byte for byte; the fast path is
    // one comparison, and only a mismatch pays for finding out which member differs.
    private static string? CheckItemFields(ProofBundle bundle, Decoded decoded)
    {
        var rebuilt = new ArrayBufferWriter<byte>(decoded.Item.Length + 64);
        try
        {
            string? metadata = null;
            if (bundle.Metadata is { } element)
            {
                if (element.ValueKind != JsonValueKind.Object)
                {
                    return $"metadata is a JSON {element.ValueKind}, not an object";
                }
                metadata = Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(element));
            }
            new DeltaItem(bundle.Delta, bundle.CustomerReference, metadata, bundle.Reason, decoded.ReceivedAtUnixMs,
                bundle.ReferenceId, decoded.Salt, bundle.SequenceNumber).WriteCanonical(rebuilt);
        }
        catch (ArgumentException e)
        {
            return $"the displayed fields have no canonical form: {e.Message}";
        }
        return rebuilt.WrittenSpan.SequenceEqual(decoded.Item) ? null : DescribeMismatch(decoded.Item, rebuilt.WrittenMemory);
    }

    private static string DescribeMismatch(byte[] item, ReadOnlyMemory<byte> expected)
    {
        try
        {
            using var actual = JsonDocument.Parse(item);
            using var shown = JsonDocument.Parse(expected);
            if (actual.RootElement.ValueKind != JsonValueKind.Object)
            {
                return "canonicalItem is not a JSON object";
            }
            foreach (var member in shown.RootElement.EnumerateObject())
            {
                string field = DisplayedField(member.Name);
                if (!actual.RootElement.TryGetProperty(member.Name, out var value))
                {
                    return $"canonicalItem has no \"{member.Name}\", but the bundle shows {field} {member.Value.GetRawText()}";
                }
                if (!string.Equals(value.GetRawText(), member.Value.GetRawText(), StringComparison.Ordinal))
                {
                    return $"canonicalItem's \"{member.Name}\" is {value.GetRawText()}, " +
                        $"but the bundle shows {field} {member.Value.GetRawText()}";
                }
            }
            foreach (var member in actual.RootElement.EnumerateObject())
            {
                if (!shown.RootElement.TryGetProperty(member.Name, out _))
                {
                    return $"canonicalItem has \"{member.Name}\": {member.Value.GetRawText()}, which the bundle does not show";
                }
            }
            return "canonicalItem says what the bundle shows, but is not its canonical (RFC 8785) form";
        }
        catch (JsonException e)
        {
            return $"canonicalItem is not JSON: {e.Message}";
        }
    }

    private static string DisplayedField(string itemMember) => itemMember switch
    {
        "amount" => "delta",
        "customer" => "customerReference",
        "sequence" => "sequenceNumber",
        "v" => "format",
        _ => itemMember,
    };

    private static string? CheckLogLeaf(Decoded decoded)
    {
        var leaf = decoded.LogLeaf;
        if (leaf.Length != ReceiptLogEntry.Length)
        {
            return $"logLeaf has {leaf.Length} bytes, want {ReceiptLogEntry.Length}";
        }
        if (leaf[0] != ReceiptLogEntry.TypeReceipt)
        {
            return $"logLeaf has entry type 0x{leaf[0]:x2}; v1 knows only 0x{ReceiptLogEntry.TypeReceipt:x2} (receipt)";
        }
        long acceptedAt = BinaryPrimitives.ReadInt64BigEndian(leaf.AsSpan(1, 8));
        if (acceptedAt != decoded.ReceivedAtUnixMs)
        {
            return $"logLeaf's acceptedAt is {acceptedAt} ms, but receivedAt is {decoded.ReceivedAtUnixMs} ms";
        }
        Span<byte> commitment = stackalloc byte[Rfc6962.HashSize];
        ReceiptLogEntry.Commitment(decoded.ReceiptId, commitment);
        return commitment.SequenceEqual(leaf.AsSpan(9))
            ? null
            : $"logLeaf commits to {Hex(leaf.AsSpan(9))}, but receiptId's commitment is {Hex(commitment)}";
    }

    private static long? ParseTimestamp(string? text)
    {
        if (text is null || !DateTimeOffset.TryParseExact(text, TimestampFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return null;
        }
        long unixMs = time.ToUnixTimeMilliseconds();
        return string.Equals(Timestamps.Format(unixMs), text, StringComparison.Ordinal) ? unixMs : null;
    }

    private static byte[]? DecodeHash(string? text)
    {
        if (text is not { Length: 2 + (2 * Rfc6962.HashSize) } || !text.StartsWith("0x", StringComparison.Ordinal)
            || text.AsSpan(2).ContainsAnyExcept(LowerHexDigits))
        {
            return null;
        }
        return Convert.FromHexString(text.AsSpan(2));
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);
}
