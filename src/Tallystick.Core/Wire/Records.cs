using System.Text.Json;

namespace Tallystick.Wire;

/// <summary>Response data of <c>GET /api/v1/balance/delta/{recordId}</c>.</summary>
public sealed record DeltaStatusResult
{
    /// <summary>The record id.</summary>
    public required string RecordId { get; init; }

    /// <summary>The same value as <see cref="RecordId"/>.</summary>
    public required string AnchorId { get; init; }

    /// <summary>QUEUED, PROCESSING, VERIFIED or FAILED.</summary>
    public required string Status { get; init; }

    /// <summary>The customer.</summary>
    public required string CustomerId { get; init; }

    /// <summary>The keyed customer reference (<c>0x</c> + 40 hex) used wherever the customer is public.</summary>
    public required string CustomerReference { get; init; }

    /// <summary>The delta, when the record holds exactly one.</summary>
    public Amount? Delta { get; init; }

    /// <summary>The sum of the record's deltas.</summary>
    public required Amount NetDelta { get; init; }

    /// <summary>The receipt root.</summary>
    public required string ReceiptId { get; init; }

    /// <summary>The same value as <see cref="ReceiptId"/>.</summary>
    public required string ItemsRoot { get; init; }

    /// <summary>The item hash, when the record holds exactly one delta.</summary>
    public string? ItemHash { get; init; }

    /// <summary>All item hashes of the record, in order.</summary>
    public required IReadOnlyList<string> ItemHashes { get; init; }

    /// <summary>The first per-customer sequence number in the record (0-based).</summary>
    public required long SequenceNumber { get; init; }

    /// <summary>The global index of the record's first delta (0-based).</summary>
    public required long Index { get; init; }

    /// <summary>Deltas in the record.</summary>
    public required int DeltaCount { get; init; }

    /// <summary>The record's deltas.</summary>
    public required IReadOnlyList<DeltaRow> Deltas { get; init; }

    /// <summary>When the record was accepted.</summary>
    public required string ReceivedAt { get; init; }

    /// <summary>When a durable signed checkpoint first covered the record; null until VERIFIED.</summary>
    public string? VerifiedAt { get; init; }

    /// <summary>Where the record's commitment sits in the transparency log.</summary>
    public required LogPosition Log { get; init; }

    /// <summary>The first signed checkpoint that covers the record; null until VERIFIED.</summary>
    public CheckpointInfo? Checkpoint { get; init; }
}

/// <summary>A log position.</summary>
public sealed record LogPosition
{
    /// <summary>The log's origin line.</summary>
    public required string Origin { get; init; }

    /// <summary>The 0-based leaf index of the record's log entry.</summary>
    public required long LeafIndex { get; init; }
}

/// <summary>A signed checkpoint (C2SP tlog-checkpoint).</summary>
public sealed record CheckpointInfo
{
    /// <summary>The tree size.</summary>
    public required long Size { get; init; }

    /// <summary>The RFC 6962 root (<c>0x</c> + 64 hex).</summary>
    public required string RootHash { get; init; }

    /// <summary>The signed note text, verifiable with the log's key.</summary>
    public required string Note { get; init; }

    /// <summary>When the checkpoint was signed.</summary>
    public required string SignedAt { get; init; }
}

/// <summary>One delta as returned by derive, status and customer detail.</summary>
public sealed record DeltaRow
{
    /// <summary>The record (submission) holding the delta.</summary>
    public required string RecordId { get; init; }

    /// <summary>The global index (0-based).</summary>
    public required long Index { get; init; }

    /// <summary>The per-customer sequence number (0-based).</summary>
    public required long SequenceNumber { get; init; }

    /// <summary>The delta.</summary>
    public required Amount Delta { get; init; }

    /// <summary>The reason.</summary>
    public required string Reason { get; init; }

    /// <summary>The referenceId, if any.</summary>
    public string? ReferenceId { get; init; }

    /// <summary>The metadata object, if any (canonical form).</summary>
    public JsonElement? Metadata { get; init; }

    /// <summary>The item hash.</summary>
    public required string ItemHash { get; init; }

    /// <summary>The receipt root of the record.</summary>
    public required string ReceiptId { get; init; }

    /// <summary>QUEUED, PROCESSING or VERIFIED.</summary>
    public required string Status { get; init; }

    /// <summary>When the delta was accepted.</summary>
    public required string ReceivedAt { get; init; }
}
