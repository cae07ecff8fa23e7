namespace Tallystick.Wire;

/// <summary>
/// Response data of the public <c>GET /api/v1/verify/{proofRoot}</c> (no API key; PacSpace reference §2.14).
/// Holding a proof root grants this one answer: the root is a read capability (docs/proof-spec.md "Public
/// verification"). Which members are present depends on <see cref="Source"/> and the tenant's reveal setting:
/// <c>source=chain</c> answers only what the transparency log proves (no summary, no records); a tenant that reveals
/// only the summary omits <see cref="Records"/> and, for a receipt root, <see cref="CustomerReference"/>.
/// </summary>
public sealed record VerifyResult
{
    /// <summary>True when the answer's source says the root is covered by a durable signed checkpoint (for
    /// <c>both</c>: both sources say so and agree).</summary>
    public required bool Verified { get; init; }

    /// <summary><c>VERIFIED</c>, or <c>QUEUED</c>/<c>PROCESSING</c> while no signed checkpoint covers the root yet.</summary>
    public required string Status { get; init; }

    /// <summary>The root asked about, <c>0x</c> + 64 lowercase hex.</summary>
    public required string ProofRoot { get; init; }

    /// <summary>What the root is: <c>receipt</c> (a record's receipt root) or <c>checkpoint</c> (a period
    /// checkpoint's proof root).</summary>
    public required string Kind { get; init; }

    /// <summary>For a <c>checkpoint</c> root, in every source: its statement as the log signed it (a C2SP signed note;
    /// docs/proof-spec.md §9), whose base64url is the proof token. It binds the root, the customer reference, the
    /// sequence window, the balances and the log index, and its hash is what the 0x02 log entry commits to.</summary>
    public string? Statement { get; init; }

    /// <summary>Which source answered: <c>db</c>, <c>chain</c> (the transparency log) or <c>both</c>.</summary>
    public required string Source { get; init; }

    /// <summary>When the root was recorded (the log entry's time), ISO 8601 UTC with milliseconds.</summary>
    public required string RecordedAt { get; init; }

    /// <summary><c>records</c> or <c>summary</c>: what the tenant lets a root holder see. Omitted for <c>chain</c>.</summary>
    public string? Reveal { get; init; }

    /// <summary>The keyed customer reference (docs/proof-spec.md §3): when records are revealed, and always for a
    /// <c>checkpoint</c> root (its signed statement names it).</summary>
    public string? CustomerReference { get; init; }

    /// <summary>Counts, net change and balances; omitted for <c>source=chain</c>.</summary>
    public VerifySummary? Summary { get; init; }

    /// <summary>The root's deltas with their exact item bytes; omitted for <c>source=chain</c>, when the tenant
    /// reveals only the summary, and for a checkpoint over more than 10,000 deltas.</summary>
    public IReadOnlyList<VerifiedRecord>? Records { get; init; }

    /// <summary>Every item hash under the root, in order (salted hiding commitments: they reveal nothing), so the
    /// root can be recomputed even when records are not revealed. Omitted for <c>source=chain</c> and for a checkpoint
    /// over more than 10,000 deltas (its count and balances are then bound by <see cref="Statement"/> alone).</summary>
    public IReadOnlyList<string>? ItemHashes { get; init; }

    /// <summary>PacSpace-style references: the log leaf hash and the API and explorer URLs.</summary>
    public required VerificationLinks Verification { get; init; }

    /// <summary>The log evidence to check without trusting the server; omitted until a signed checkpoint covers the
    /// root.</summary>
    public VerifyLogEvidence? Log { get; init; }

    /// <summary>For <c>source=both</c>: each source's verdict and whether they agree.</summary>
    public VerifySources? Sources { get; init; }

    /// <summary>A human-readable sentence about the outcome.</summary>
    public required string Message { get; init; }
}

/// <summary>The root's totals. Amounts are exact JSON numbers.</summary>
public sealed record VerifySummary
{
    /// <summary>How many deltas the root covers.</summary>
    public required int RecordCount { get; init; }

    /// <summary>The sum of the deltas.</summary>
    public required Amount NetChange { get; init; }

    /// <summary>The customer's balance before the first delta (the ledger's statement: balances are not hashed).</summary>
    public required Amount StartingBalance { get; init; }

    /// <summary>The customer's balance after the last delta (the ledger's statement).</summary>
    public required Amount EndingBalance { get; init; }

    /// <summary>When the first delta was accepted.</summary>
    public required string FirstRecordAt { get; init; }

    /// <summary>When the last delta was accepted.</summary>
    public required string LastRecordAt { get; init; }
}

/// <summary>One delta under a verified root, with its exact item bytes (docs/proof-spec.md §1).</summary>
public sealed record VerifiedRecord
{
    /// <summary>The delta, exactly.</summary>
    public required Amount Amount { get; init; }

    /// <summary>The reason.</summary>
    public required string Reason { get; init; }

    /// <summary>The referenceId, when the delta has one.</summary>
    public string? ReferenceId { get; init; }

    /// <summary><c>verified</c>, or <c>pending</c> until a signed checkpoint covers the root.</summary>
    public required string Status { get; init; }

    /// <summary>When the delta was accepted.</summary>
    public required string Time { get; init; }

    /// <summary>The per-customer sequence number (0-based).</summary>
    public required long SequenceNumber { get; init; }

    /// <summary><c>SHA-256(0x00 ‖ canonicalItem)</c>, <c>0x</c> + 64 hex.</summary>
    public required string ItemHash { get; init; }

    /// <summary>The exact item bytes, base64: they carry amount, reason, referenceId, metadata, customer reference,
    /// time, salt and sequence number, so a verifier recomputes <see cref="ItemHash"/> and reads every field.</summary>
    public required string CanonicalItem { get; init; }
}

/// <summary>PacSpace's verification block.</summary>
public sealed record VerificationLinks
{
    /// <summary>The RFC 6962 leaf hash of the root's log entry, <c>0x</c> + 64 hex (public: what the log shows).</summary>
    public required string VerificationReference { get; init; }

    /// <summary>The absolute URL of this JSON answer.</summary>
    public required string VerificationApiUrl { get; init; }

    /// <summary>The absolute URL of the human page that re-checks the proof in the browser.</summary>
    public required string VerificationExplorerUrl { get; init; }
}

/// <summary>
/// The transparency-log evidence for a root: its entry, the entry's inclusion proof and the signed checkpoint it is
/// proven under (the latest durable one). With the log's key (<c>/log/key</c>, or pinned out of band) anyone checks
/// it: entry = <c>0x01 ‖ u64be(recordedAt ms) ‖ SHA-256("tallystick/receipt-commitment/v1\n" ‖ root)</c> for a receipt
/// root, <c>0x02 ‖ u64be(recordedAt ms) ‖ SHA-256("tallystick/checkpoint-commitment/v1\n" ‖ statement text)</c> for a
/// checkpoint root; leaf hash = <c>SHA-256(0x00 ‖ entry)</c>, RFC 9162 inclusion at <see cref="LeafIndex"/> up to the
/// checkpoint's root, and the checkpoint's Ed25519 signature.
/// </summary>
public sealed record VerifyLogEvidence
{
    /// <summary>The log's origin.</summary>
    public required string Origin { get; init; }

    /// <summary>The entry's 0-based index in the log.</summary>
    public required long LeafIndex { get; init; }

    /// <summary>The log entry bytes (41), base64.</summary>
    public required string LogLeaf { get; init; }

    /// <summary>The size of the checkpoint's tree.</summary>
    public required long TreeSize { get; init; }

    /// <summary>The signed checkpoint note, verbatim (C2SP tlog-checkpoint).</summary>
    public required string Checkpoint { get; init; }

    /// <summary>The RFC 9162 inclusion path, leaf's sibling first, <c>0x</c> + 64 hex each.</summary>
    public required IReadOnlyList<string> InclusionProof { get; init; }

    /// <summary>The same proof as a C2SP tlog-proof text (docs/proof-spec.md §8.1).</summary>
    public required string TlogProof { get; init; }
}

/// <summary>For <c>source=both</c>: what each source says.</summary>
public sealed record VerifySources
{
    /// <summary>The store says a durable signed checkpoint covers the root's entry.</summary>
    public required bool Db { get; init; }

    /// <summary>The log proves it: the entry commits to the root and is included under a signed checkpoint.</summary>
    public required bool Chain { get; init; }

    /// <summary>Both sources give the same verdict, time and leaf.</summary>
    public required bool Agree { get; init; }
}
