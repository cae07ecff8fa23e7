using System.Text.Json;
using Tallystick.Deltas;
using Tallystick.Merkle;
using Tallystick.Notes;

namespace Tallystick.Proofs;

/// <summary>
/// A self-contained, offline-verifiable proof of one delta (<c>tallystick.proof-bundle.v1</c>, docs/proof-spec.md
/// "Proof bundles"): the delta as displayed, its exact item bytes, the path from its item hash to the record's
/// receipt root, the record's log entry, and a C2SP tlog-proof of that entry under a signed checkpoint.
/// <see cref="ProofBundleVerifier.Verify"/> checks every link given only the log's public key.
/// </summary>
/// <remarks>
/// Hashes are <c>0x</c> + lowercase hex, byte strings are standard padded base64. <see cref="RecordId"/> and
/// <see cref="CustomerId"/> are labels for humans: nothing hashed contains them (the item names the customer only by
/// its keyed <see cref="CustomerReference"/>), so a verifier cannot and does not vouch for them.
/// <see cref="ItemIndex"/> and <see cref="ItemCount"/> are bound only through the shape of <see cref="ItemPath"/>.
/// Every other member is bound by a hash, a Merkle path or the checkpoint signature. The record is a JSON shape, not a domain object:
/// deserialised bundles are untrusted and may hold any values, including nulls in non-nullable members.
/// </remarks>
public sealed record ProofBundle
{
    /// <summary>The value of <see cref="Version"/> for this format.</summary>
    public const string FormatVersion = "tallystick.proof-bundle.v1";

    /// <summary>The format version, <see cref="FormatVersion"/>.</summary>
    public required string Version { get; init; }

    /// <summary>The record (submission) holding the delta. Not covered by any hash.</summary>
    public required string RecordId { get; init; }

    /// <summary>The customer id as the tenant knows it. Not covered by any hash: only
    /// <see cref="CustomerReference"/> is proven.</summary>
    public required string CustomerId { get; init; }

    /// <summary>The keyed customer reference (<c>0x</c> + 40 hex) inside the item bytes.</summary>
    public required string CustomerReference { get; init; }

    /// <summary>The delta, exactly.</summary>
    public required Amount Delta { get; init; }

    /// <summary>The reason.</summary>
    public required string Reason { get; init; }

    /// <summary>The referenceId, when the delta has one.</summary>
    public string? ReferenceId { get; init; }

    /// <summary>The metadata object, when the delta has one; compared with the item in RFC 8785 form.</summary>
    public JsonElement? Metadata { get; init; }

    /// <summary>The per-customer sequence number (0-based).</summary>
    public required long SequenceNumber { get; init; }

    /// <summary>When the delta was accepted, <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>; also the log entry's time.</summary>
    public required string ReceivedAt { get; init; }

    /// <summary>The item's salt, 32 lowercase hex digits.</summary>
    public required string Salt { get; init; }

    /// <summary>The exact item bytes (docs/proof-spec.md §1), base64.</summary>
    public required string CanonicalItem { get; init; }

    /// <summary><c>SHA-256(0x00 ‖ item bytes)</c>.</summary>
    public required string ItemHash { get; init; }

    /// <summary>The 0-based position of the delta within its record.</summary>
    public required int ItemIndex { get; init; }

    /// <summary>The number of deltas in the record.</summary>
    public required int ItemCount { get; init; }

    /// <summary>The RFC 9162 inclusion path from <see cref="ItemHash"/> to <see cref="ReceiptId"/>, sibling of the
    /// item first.</summary>
    public required IReadOnlyList<string> ItemPath { get; init; }

    /// <summary>The record's receipt root (RFC 6962 root of its item hashes).</summary>
    public required string ReceiptId { get; init; }

    /// <summary>The 0-based index of the record's entry in the transparency log.</summary>
    public required long LogIndex { get; init; }

    /// <summary>The 41-byte receipt log entry (docs/proof-spec.md §4), base64.</summary>
    public required string LogLeaf { get; init; }

    /// <summary>The C2SP tlog-proof text proving <see cref="LogLeaf"/> at <see cref="LogIndex"/> under a signed
    /// checkpoint (see <see cref="Proofs.TlogProof"/>).</summary>
    public required string TlogProof { get; init; }

    /// <summary>The log's verifier key (vkey text) the server signs with. A verifier compares it with the key it
    /// trusts; it never trusts this member.</summary>
    public required string LogKey { get; init; }

    /// <summary>
    /// Assembles a bundle from what the ledger stores. Pure; the inputs must already be consistent (they come from
    /// the ledger, not from a client), and inconsistencies are reported as <see cref="ArgumentException"/>.
    /// </summary>
    /// <param name="recordId">The record's id.</param>
    /// <param name="customerId">The customer's id.</param>
    /// <param name="item">The delta's item, as hashed when it was accepted.</param>
    /// <param name="recordItemHashes">Every item hash of the record, in order (each 32 bytes).</param>
    /// <param name="itemIndex">The delta's position in <paramref name="recordItemHashes"/>.</param>
    /// <param name="logProof">The inclusion proof of the record's log entry; its index is the entry's.</param>
    /// <param name="logKey">The log's public key.</param>
    /// <returns>The bundle; it verifies under <paramref name="logKey"/> if the proof and checkpoint are right.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="itemIndex"/> is outside the record.</exception>
    /// <exception cref="ArgumentException">The item's hash is not <c>recordItemHashes[itemIndex]</c>, or a hash
    /// has the wrong length.</exception>
    public static ProofBundle Create(string recordId, string customerId, DeltaItem item,
        IReadOnlyList<byte[]> recordItemHashes, int itemIndex, TlogProof logProof, NoteVerifier logKey)
    {
        ArgumentNullException.ThrowIfNull(recordId);
        ArgumentNullException.ThrowIfNull(customerId);
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(recordItemHashes);
        ArgumentNullException.ThrowIfNull(logProof);
        ArgumentNullException.ThrowIfNull(logKey);
        ArgumentOutOfRangeException.ThrowIfNegative(itemIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(itemIndex, recordItemHashes.Count);
        var canonical = item.ToCanonicalBytes();
        var itemHash = Rfc6962.HashLeaf(canonical);
        if (!itemHash.AsSpan().SequenceEqual(recordItemHashes[itemIndex]))
        {
            throw new ArgumentException(
                $"the item hashes to {Hex(itemHash)}, but the record lists {Hex(recordItemHashes[itemIndex])} at index {itemIndex}",
                nameof(item));
        }
        var receipt = MerkleTree.RootFromLeafHashes(recordItemHashes);
        var path = MerkleTree.InclusionPath(recordItemHashes, itemIndex);
        var pathHex = new string[path.Length];
        for (int i = 0; i < path.Length; i++)
        {
            pathHex[i] = Hex(path[i]);
        }
        return new ProofBundle
        {
            Version = FormatVersion,
            RecordId = recordId,
            CustomerId = customerId,
            CustomerReference = item.CustomerReference,
            Delta = item.Amount,
            Reason = item.Reason,
            ReferenceId = item.ReferenceId,
            Metadata = item.MetadataJson is null ? null : ParseMetadata(item.MetadataJson),
            SequenceNumber = item.Sequence,
            ReceivedAt = Timestamps.Format(item.ReceivedAtUnixMs),
            Salt = Convert.ToHexStringLower(item.Salt),
            CanonicalItem = Convert.ToBase64String(canonical),
            ItemHash = Hex(itemHash),
            ItemIndex = itemIndex,
            ItemCount = recordItemHashes.Count,
            ItemPath = pathHex,
            ReceiptId = Hex(receipt),
            LogIndex = logProof.Index,
            LogLeaf = Convert.ToBase64String(ReceiptLogEntry.Create(receipt, item.ReceivedAtUnixMs)),
            TlogProof = logProof.Format(),
            LogKey = logKey.VerifierKeyText,
        };
    }

    private static JsonElement ParseMetadata(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static string Hex(byte[] bytes) => "0x" + Convert.ToHexStringLower(bytes);
}
