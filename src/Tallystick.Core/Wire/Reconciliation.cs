using System.Text.Json.Serialization;

namespace Tallystick.Wire;

/// <summary>Request body of <c>POST /api/v1/balance/compare</c>: balances and/or record views against the record.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CompareRequest
{
    /// <summary>The customer (required).</summary>
    public string? CustomerId { get; init; }

    /// <summary>Your balance for the window.</summary>
    public Amount? YourBalance { get; init; }

    /// <summary>The counterparty's balance for the window.</summary>
    public Amount? TheirBalance { get; init; }

    /// <summary>Alias of <see cref="TheirBalance"/> (PacSpace's how-it-works page).</summary>
    public Amount? CounterpartyBalance { get; init; }

    /// <summary>Added to the window's net (default 0).</summary>
    public Amount? StartingBalance { get; init; }

    /// <summary>Scope: a recordId or receiptId the window starts after.</summary>
    public string? StartingCheckpoint { get; init; }

    /// <summary>Scope: <c>recordId</c> or <c>proofRoot</c>.</summary>
    public string? StartingCheckpointType { get; init; }

    /// <summary>Scope: a month <c>YYYY-MM</c>.</summary>
    public string? Period { get; init; }

    /// <summary>Scope: <c>current_month</c>, <c>last_month</c> or <c>custom</c>.</summary>
    public string? TimePreset { get; init; }

    /// <summary>Scope: inclusive start (ISO 8601).</summary>
    public string? StartDate { get; init; }

    /// <summary>Scope: exclusive end (ISO 8601).</summary>
    public string? EndDate { get; init; }

    /// <summary><c>day</c>, <c>week</c> or <c>month</c>: adds a breakdown of the window.</summary>
    public string? Granularity { get; init; }

    /// <summary>How far a balance may be from the record and still count as within tolerance.</summary>
    public CompareTolerance? Tolerance { get; init; }

    /// <summary>Your view of the window's deltas (record-level compare).</summary>
    public IReadOnlyList<CompareRecord>? YourRecords { get; init; }

    /// <summary>The counterparty's view of the window's deltas (record-level compare).</summary>
    public IReadOnlyList<CompareRecord>? TheirRecords { get; init; }
}

/// <summary>Balance tolerance: a difference within either bound is within tolerance.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CompareTolerance
{
    /// <summary>Largest absolute difference (≥ 0).</summary>
    public Amount? Absolute { get; init; }

    /// <summary>Largest difference as a fraction of |neutralBalance| (≥ 0; 0.01 = 1%).</summary>
    public Amount? Relative { get; init; }
}

/// <summary>One delta as a party recorded it.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CompareRecord
{
    /// <summary>The delta's referenceId (the join key with the record).</summary>
    public required string ReferenceId { get; init; }

    /// <summary>The amount the party recorded.</summary>
    public required Amount Amount { get; init; }

    /// <summary>When the party saw it (ISO 8601); places a record the ledger lacks in time order.</summary>
    public string? Time { get; init; }
}

/// <summary>Response data of <c>POST /api/v1/balance/compare</c>. Neutral: it says what matches the verified record.</summary>
public sealed record CompareResult
{
    /// <summary>The customer.</summary>
    public required string CustomerId { get; init; }

    /// <summary>True when every balance and record view given matches the verified record exactly.</summary>
    public required bool Match { get; init; }

    /// <summary>Your balance equals <see cref="NeutralBalance"/>; null when not given.</summary>
    public bool? MatchesYours { get; init; }

    /// <summary>Their balance equals <see cref="NeutralBalance"/>; null when not given.</summary>
    public bool? MatchesTheirs { get; init; }

    /// <summary>The balance derived from the verified record for the window (startingBalance + net).</summary>
    public required Amount NeutralBalance { get; init; }

    /// <summary>Your balance as sent.</summary>
    public Amount? YourBalance { get; init; }

    /// <summary>Their balance as sent.</summary>
    public Amount? TheirBalance { get; init; }

    /// <summary>yourBalance − neutralBalance.</summary>
    public Amount? YourDifference { get; init; }

    /// <summary>theirBalance − neutralBalance.</summary>
    public Amount? TheirDifference { get; init; }

    /// <summary>Every balance given is within the tolerance (exact match when no tolerance is given).</summary>
    public required bool WithinTolerance { get; init; }

    /// <summary>Verified deltas in the window.</summary>
    public required long DeltaCount { get; init; }

    /// <summary>The window compared against.</summary>
    public required BalanceWindow Window { get; init; }

    /// <summary>The signed checkpoint the answer was computed against.</summary>
    public required CheckpointInfo Checkpoint { get; init; }

    /// <summary>The breakdown by <c>granularity</c>, when asked for.</summary>
    public IReadOnlyList<BalanceBucket>? Breakdown { get; init; }

    /// <summary>Record-level: ledger deltas that every view given holds with the same amount, exactly once.</summary>
    public long? Confirmed { get; init; }

    /// <summary>Record-level: how many records each view and the ledger window hold.</summary>
    public RecordCounts? Records { get; init; }

    /// <summary>All discrepancies found, per kind (also those beyond the listed maximum).</summary>
    public required IReadOnlyDictionary<string, long> DiscrepancyCounts { get; init; }

    /// <summary>Discrepancies in ledger order (balance differences first), at most the compare maximum.</summary>
    public required IReadOnlyList<Discrepancy> Discrepancies { get; init; }

    /// <summary>True when <see cref="Discrepancies"/> was cut at the maximum.</summary>
    public required bool DiscrepanciesTruncated { get; init; }

    /// <summary>Record-level: the earliest point where a view departs from the verified record.</summary>
    public Divergence? FirstDivergence { get; init; }

    /// <summary>A neutral summary.</summary>
    public required string Message { get; init; }
}

/// <summary>Record counts of a record-level compare.</summary>
public sealed record RecordCounts
{
    /// <summary>Verified deltas in the window.</summary>
    public required long Ledger { get; init; }

    /// <summary>Records in your view.</summary>
    public long? Yours { get; init; }

    /// <summary>Records in their view.</summary>
    public long? Theirs { get; init; }
}

/// <summary>One departure from the verified record.</summary>
public sealed record Discrepancy
{
    /// <summary><c>missing_from_yours</c>, <c>missing_from_theirs</c>, <c>missing_from_ledger</c>,
    /// <c>amount_mismatch</c>, <c>duplicate</c> or <c>balance_differs</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Whose view departs: <c>yours</c>, <c>theirs</c>; null when both do the same way.</summary>
    public string? Party { get; init; }

    /// <summary>The referenceId concerned.</summary>
    public string? ReferenceId { get; init; }

    /// <summary>The ledger sequence number (absent for records the ledger does not hold).</summary>
    public long? SequenceNumber { get; init; }

    /// <summary>The amount on the verified record (or the neutral balance).</summary>
    public Amount? LedgerAmount { get; init; }

    /// <summary>The amount in your view.</summary>
    public Amount? YourAmount { get; init; }

    /// <summary>The amount in their view.</summary>
    public Amount? TheirAmount { get; init; }

    /// <summary>How many times the view lists the referenceId (duplicates).</summary>
    public int? Occurrences { get; init; }

    /// <summary>The ledger's acceptance time, or the view's time for records the ledger lacks.</summary>
    public string? Time { get; init; }
}

/// <summary>The first divergence: where, in ledger sequence order, a view first departs from the record.</summary>
public sealed record Divergence
{
    /// <summary>The ledger sequence number (for a record the ledger lacks: where it would sit by time).</summary>
    public long? SequenceNumber { get; init; }

    /// <summary>The referenceId there.</summary>
    public string? ReferenceId { get; init; }

    /// <summary>The time there (ISO 8601 UTC).</summary>
    public string? Time { get; init; }

    /// <summary>The discrepancy kind there.</summary>
    public required string Kind { get; init; }

    /// <summary>Whose view departs there.</summary>
    public string? Party { get; init; }
}

/// <summary>Response data of <c>GET /api/v1/balance/compare/{customerId}/windows</c>.</summary>
public sealed record CompareWindows
{
    /// <summary>The customer.</summary>
    public required string CustomerId { get; init; }

    /// <summary><c>day</c>, <c>week</c> or <c>month</c>.</summary>
    public required string Granularity { get; init; }

    /// <summary>The whole window.</summary>
    public required BalanceWindow Window { get; init; }

    /// <summary>The signed checkpoint the answer was computed against.</summary>
    public required CheckpointInfo Checkpoint { get; init; }

    /// <summary>Per-bucket totals and roots, in time order.</summary>
    public required IReadOnlyList<BalanceBucket> Windows { get; init; }
}

/// <summary>Response data of <c>GET /api/v1/balance/gaps/{customerId}</c>.</summary>
public sealed record GapReport
{
    /// <summary>The customer.</summary>
    public required string CustomerId { get; init; }

    /// <summary>Inclusive start of the range examined.</summary>
    public required long FromSequence { get; init; }

    /// <summary>Exclusive end of the range examined.</summary>
    public required long ToSequence { get; init; }

    /// <summary>Highest n such that sequence numbers 0..n are all VERIFIED; null when none is.</summary>
    public long? ContiguousThrough { get; init; }

    /// <summary>VERIFIED deltas of the customer (sequence numbers 0..verifiedCount−1).</summary>
    public required long VerifiedCount { get; init; }

    /// <summary>Accepted deltas of the customer, verified or not.</summary>
    public required long AcceptedCount { get; init; }

    /// <summary>Ranges in [fromSequence, toSequence) that are not VERIFIED, in order.</summary>
    public required IReadOnlyList<SequenceGap> Gaps { get; init; }

    /// <summary>True when more ranges exist than <c>limit</c>.</summary>
    public required bool Truncated { get; init; }
}

/// <summary>A range [from, to) of sequence numbers that are not VERIFIED.</summary>
public sealed record SequenceGap
{
    /// <summary>Inclusive start.</summary>
    public required long From { get; init; }

    /// <summary>Exclusive end.</summary>
    public required long To { get; init; }

    /// <summary><c>unverified</c> (accepted, not yet covered by a signed checkpoint) or <c>missing</c> (the ledger
    /// holds no such sequence number).</summary>
    public required string Reason { get; init; }
}
