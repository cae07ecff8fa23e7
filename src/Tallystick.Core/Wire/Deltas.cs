using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tallystick.Wire;

/// <summary>Request body of <c>POST /api/v1/balance/delta</c> (and one item of a batch).</summary>
public sealed record EmitRequest
{
    /// <summary>The customer: 1–128 characters of <c>[A-Za-z0-9_.:-]</c>.</summary>
    public required string CustomerId { get; init; }

    /// <summary>Non-zero, |delta| ≤ 1,000,000,000, at most 8 fraction digits. Positive credits, negative debits.</summary>
    public required Amount Delta { get; init; }

    /// <summary>Audit text, 1–500 characters.</summary>
    public required string Reason { get; init; }

    /// <summary>Your correlation id; a repeated (customerId, referenceId) is recorded once.</summary>
    public string? ReferenceId { get; init; }

    /// <summary>A JSON object (≤ 4096 canonical bytes, depth ≤ 5).</summary>
    public JsonElement? Metadata { get; init; }
}

/// <summary>Request body of <c>POST /api/v1/balance/delta/batch</c>.</summary>
public sealed record BatchEmitRequest
{
    /// <summary>1–100 deltas.</summary>
    public required IReadOnlyList<EmitRequest> Deltas { get; init; }
}

/// <summary>Response data of a single emit.</summary>
public sealed record EmitResult
{
    /// <summary>The record (submission) id, used for status polling: <c>rec_…</c>.</summary>
    public required string RecordId { get; init; }

    /// <summary>The same value as <see cref="RecordId"/> (PacSpace's older name).</summary>
    public required string AnchorId { get; init; }

    /// <summary>The customer.</summary>
    public required string CustomerId { get; init; }

    /// <summary>The recorded delta, exactly as stored.</summary>
    public required Amount Delta { get; init; }

    /// <summary>QUEUED for a new record; the current status for an idempotent replay.</summary>
    public required string Status { get; init; }

    /// <summary>The receipt root (<c>0x</c> + 64 hex): RFC 6962 root over the submission's item hashes.</summary>
    public required string ReceiptId { get; init; }

    /// <summary>The same value as <see cref="ReceiptId"/>.</summary>
    public required string ItemsRoot { get; init; }

    /// <summary>The item hashes of the submission (one for a single emit).</summary>
    public required IReadOnlyList<string> ItemHashes { get; init; }

    /// <summary>This delta's item hash.</summary>
    public required string ItemHash { get; init; }

    /// <summary>The per-customer sequence number (0-based).</summary>
    public required long SequenceNumber { get; init; }

    /// <summary>The global delta index (0-based, in acceptance order).</summary>
    public required long Index { get; init; }

    /// <summary>When the delta was accepted (ISO 8601 UTC, milliseconds).</summary>
    public required string ReceivedAt { get; init; }

    /// <summary>Deltas this submission will verify (1).</summary>
    public required int EstimatedVerifiedDeltas { get; init; }

    /// <summary>True when this answer is the original record of a repeated (customerId, referenceId).</summary>
    public bool? Idempotent { get; init; }

    /// <summary>Human-readable status.</summary>
    public required string Message { get; init; }
}

/// <summary>Response data of a batch emit.</summary>
public sealed record BatchEmitResult
{
    /// <summary>Items accepted (new or idempotent).</summary>
    public required int TotalQueued { get; init; }

    /// <summary>Items refused; each has <c>status: FAILED</c> and an <c>error</c> code.</summary>
    public required int TotalFailed { get; init; }

    /// <summary>One result per input item, in input order.</summary>
    public required IReadOnlyList<BatchItemResult> Results { get; init; }

    /// <summary>How the batch was packed: one verified operation per distinct customer.</summary>
    [JsonPropertyName("_efficiency")]
    public required BatchEfficiency Efficiency { get; init; }
}

/// <summary>The result of one batch item.</summary>
public sealed record BatchItemResult
{
    /// <summary>Position in the request's <c>deltas</c> array.</summary>
    public required int Index { get; init; }

    /// <summary>The item's customer, when it could be read.</summary>
    public string? CustomerId { get; init; }

    /// <summary>The item's delta, when it could be read.</summary>
    public Amount? Delta { get; init; }

    /// <summary>The record (submission) holding this item; shared by the batch's items for one customer.</summary>
    public string? RecordId { get; init; }

    /// <summary>The same value as <see cref="RecordId"/>.</summary>
    public string? AnchorId { get; init; }

    /// <summary>This item's hash.</summary>
    public string? ItemHash { get; init; }

    /// <summary>The receipt root of the item's record.</summary>
    public string? ReceiptId { get; init; }

    /// <summary>The per-customer sequence number (0-based).</summary>
    public long? SequenceNumber { get; init; }

    /// <summary>QUEUED, VERIFIED/PROCESSING (idempotent replays report the current status) or FAILED.</summary>
    public required string Status { get; init; }

    /// <summary>True when the item repeated an existing (customerId, referenceId).</summary>
    public bool? Idempotent { get; init; }

    /// <summary>The error code of a FAILED item.</summary>
    public string? Error { get; init; }

    /// <summary>The error message of a FAILED item.</summary>
    public string? Message { get; init; }

    /// <summary>The field at fault of a FAILED item.</summary>
    public string? Field { get; init; }
}

/// <summary>The <c>_efficiency</c> summary of a batch.</summary>
public sealed record BatchEfficiency
{
    /// <summary>Distinct customers among accepted items.</summary>
    public required int UniqueCustomers { get; init; }

    /// <summary>Items in the request.</summary>
    public required int TotalDeltas { get; init; }

    /// <summary>Verified operations (records) the batch produced: one per distinct customer.</summary>
    public required int EstimatedSlots { get; init; }

    /// <summary>Human-readable summary.</summary>
    public required string Message { get; init; }
}
