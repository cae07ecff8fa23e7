namespace Tallystick.Wire;

/// <summary>
/// A period checkpoint as the API shows it (<c>POST /api/v1/balance/checkpoint</c>, <c>GET …/checkpoints</c>):
/// one customer's verified deltas in a sequence window, committed by <see cref="ProofRoot"/>, signed by the log
/// (<see cref="ProofToken"/>) and anchored at <see cref="LogIndex"/>. docs/proof-spec.md specifies the statement.
/// </summary>
public sealed record PeriodCheckpointResult
{
    /// <summary><c>chk_</c> + a decimal id.</summary>
    public required string CheckpointId { get; init; }

    /// <summary>QUEUED, PROCESSING or VERIFIED: VERIFIED once a signed tree checkpoint covers <see cref="LogIndex"/>.</summary>
    public required string Status { get; init; }

    /// <summary>The tenant's customer id (never in the signed statement, which names <see cref="CustomerReference"/>).</summary>
    public required string CustomerId { get; init; }

    /// <summary>The keyed customer reference the signed statement names.</summary>
    public required string CustomerReference { get; init; }

    /// <summary>RFC 6962 root over the window's item hashes in sequence order, <c>0x</c> + 64 hex. A read capability.</summary>
    public required string ProofRoot { get; init; }

    /// <summary>Alias of <see cref="ProofRoot"/> (PacSpace SDK field).</summary>
    public required string ProofHash { get; init; }

    /// <summary>Alias of <see cref="ProofRoot"/> (older PacSpace docs).</summary>
    public required string MerkleRoot { get; init; }

    /// <summary>The statement signed by the log, as one string for an invoice (<c>tpt1_…</c>); verifies offline.</summary>
    public required string ProofToken { get; init; }

    /// <summary>Deltas in the window: <see cref="ToSequence"/> − <see cref="FromSequence"/>.</summary>
    public required long DeltaCount { get; init; }

    /// <summary>First sequence number in the window.</summary>
    public required long FromSequence { get; init; }

    /// <summary>One past the last sequence number in the window.</summary>
    public required long ToSequence { get; init; }

    /// <summary>Global index of the window's first delta.</summary>
    public required long FromIndex { get; init; }

    /// <summary>Global index of the window's last delta.</summary>
    public required long ToIndex { get; init; }

    /// <summary>The customer's balance before the window's first delta.</summary>
    public required Amount StartingBalance { get; init; }

    /// <summary>The customer's balance after the window's last delta (starting + the window's net).</summary>
    public required Amount EndingBalance { get; init; }

    /// <summary>Index of the checkpoint's entry (type 0x02) in the transparency log.</summary>
    public required long LogIndex { get; init; }

    /// <summary>When the checkpoint was anchored (the statement's <c>anchored</c> time), ISO 8601 UTC.</summary>
    public required string CreatedAt { get; init; }

    /// <summary>True when this window had been checkpointed before and this is the original checkpoint.</summary>
    public bool? Idempotent { get; init; }

    /// <summary>Public verification of <see cref="ProofRoot"/>, absolute when the server knows its public URL.</summary>
    public string? VerificationApiUrl { get; init; }
}

/// <summary>Several checkpoints: a request without <c>customerId</c>, or a listing.</summary>
public sealed record PeriodCheckpointList
{
    /// <summary>The checkpoints, one per customer (creation) or newest first (listing).</summary>
    public required IReadOnlyList<PeriodCheckpointResult> Checkpoints { get; init; }

    /// <summary>Number of entries in <see cref="Checkpoints"/>.</summary>
    public required long Count { get; init; }

    /// <summary>Paging of a listing; absent on creation.</summary>
    public OffsetPagination? Pagination { get; init; }
}

/// <summary>
/// A receipt for a customer's window (<c>GET /receipt/{customerId}</c>, <c>GET /invoice-proof/{customerId}</c>,
/// reference §2.9): the window's period checkpoint, its rows, and where to verify it.
/// </summary>
public sealed record ReceiptResult
{
    /// <summary>The customer.</summary>
    public required string CustomerId { get; init; }

    /// <summary>The window: a month <c>YYYY-MM</c>, <c>custom</c>, or <c>all_time</c>.</summary>
    public required string Period { get; init; }

    /// <summary>When the window's checkpoint was anchored.</summary>
    public required string GeneratedAt { get; init; }

    /// <summary>The window's period checkpoint.</summary>
    public required string CheckpointId { get; init; }

    /// <summary>QUEUED, PROCESSING or VERIFIED (the checkpoint's log entry).</summary>
    public required string Status { get; init; }

    /// <summary>The window's proof root (a read capability; give it to the customer with the invoice).</summary>
    public required string ProofRoot { get; init; }

    /// <summary>Alias of <see cref="ProofRoot"/> (older PacSpace receipts).</summary>
    public required string ItemsRoot { get; init; }

    /// <summary>Alias of <see cref="ProofRoot"/> (older PacSpace receipts).</summary>
    public required string ReceiptId { get; init; }

    /// <summary>The signed statement as one string, verifiable offline with the log key.</summary>
    public required string ProofToken { get; init; }

    /// <summary>Deltas in the window.</summary>
    public required long DeltasCount { get; init; }

    /// <summary>Alias of <see cref="DeltasCount"/>.</summary>
    public required long DeltaCount { get; init; }

    /// <summary>Balance before the window.</summary>
    public required Amount StartingBalance { get; init; }

    /// <summary>Balance after the window.</summary>
    public required Amount FinalBalance { get; init; }

    /// <summary>Alias of <see cref="FinalBalance"/>.</summary>
    public required Amount EndingBalance { get; init; }

    /// <summary>First sequence number of the window.</summary>
    public required long FromSequence { get; init; }

    /// <summary>One past the last sequence number of the window.</summary>
    public required long ToSequence { get; init; }

    /// <summary>The human verification page for <see cref="ProofRoot"/>.</summary>
    public required string VerifyUrl { get; init; }

    /// <summary>The machine verification endpoint for <see cref="ProofRoot"/>.</summary>
    public required string VerificationApiUrl { get; init; }

    /// <summary>Deprecated PacSpace compatibility field: the same page as <see cref="VerifyUrl"/>.</summary>
    public required string VerificationExplorerUrl { get; init; }

    /// <summary>Shared-record access hint (PacSpace); Tallystick has none, so always null.</summary>
    public string? AccessHint { get; init; }

    /// <summary>Shared-record link (PacSpace); Tallystick has none, so always null.</summary>
    public string? CustomerLinkUrl { get; init; }

    /// <summary>Shared-record host (PacSpace); Tallystick has none, so always null.</summary>
    public string? CustomerLinkHost { get; init; }

    /// <summary>The window's rows, a page of them (<see cref="Pagination"/>).</summary>
    public required IReadOnlyList<DeltaRow> Deltas { get; init; }

    /// <summary>Paging of <see cref="Deltas"/> within the window.</summary>
    public required OffsetPagination Pagination { get; init; }
}
