namespace Tallystick.Wire;

/// <summary>Response data of <c>GET /api/v1/balance/derive/{customerId}</c>.</summary>
public sealed record DeriveResult
{
    /// <summary>The customer.</summary>
    public required string CustomerId { get; init; }

    /// <summary>The keyed customer reference.</summary>
    public required string CustomerReference { get; init; }

    /// <summary>The balance over VERIFIED deltas in the window (all time when unscoped).</summary>
    public required Amount ComputedBalance { get; init; }

    /// <summary>The same value as <see cref="ComputedBalance"/>.</summary>
    public required Amount Balance { get; init; }

    /// <summary>VERIFIED deltas counted in the balance.</summary>
    public required long DeltasCount { get; init; }

    /// <summary>The same value as <see cref="DeltasCount"/>.</summary>
    public required long DeltaCount { get; init; }

    /// <summary>Global index of the customer's last VERIFIED delta; null when none is verified.</summary>
    public long? LastVerifiedIndex { get; init; }

    /// <summary>Sequence number of the customer's last VERIFIED delta; null when none is verified.</summary>
    public long? LastVerifiedSequenceNumber { get; init; }

    /// <summary>Receipt root of the customer's last VERIFIED record.</summary>
    public string? LatestReceiptId { get; init; }

    /// <summary>Accepted deltas not yet VERIFIED.</summary>
    public required long PendingCount { get; init; }

    /// <summary>Sum of accepted deltas not yet VERIFIED.</summary>
    public required Amount PendingAmount { get; init; }

    /// <summary>The window the balance covers.</summary>
    public required BalanceWindow Window { get; init; }

    /// <summary>The signed checkpoint the answer was computed against.</summary>
    public CheckpointInfo? Checkpoint { get; init; }

    /// <summary>The breakdown by <c>granularity</c>, when asked for.</summary>
    public IReadOnlyList<BalanceBucket>? Breakdown { get; init; }

    /// <summary>VERIFIED deltas of the window in sequence order, paged by <c>limit</c>/<c>offset</c>.</summary>
    public required IReadOnlyList<DeltaRow> Deltas { get; init; }

    /// <summary>Paging of <see cref="Deltas"/>.</summary>
    public required OffsetPagination Pagination { get; init; }
}

/// <summary>The window a balance covers, as resolved by the server.</summary>
public sealed record BalanceWindow
{
    /// <summary><c>all_time</c> (unscoped), <c>period</c>, <c>current_month</c>, <c>last_month</c>, <c>custom</c> or
    /// <c>checkpoint</c>.</summary>
    public required string Scope { get; init; }

    /// <summary>Inclusive start (ISO 8601 UTC), null for the beginning of the record or a checkpoint window.</summary>
    public string? StartDate { get; init; }

    /// <summary>Exclusive end (ISO 8601 UTC), null for "up to the latest signed checkpoint".</summary>
    public string? EndDate { get; init; }

    /// <summary>The month <c>YYYY-MM</c> of a period scope.</summary>
    public string? Period { get; init; }

    /// <summary>The checkpoint the window starts after (exclusive), for a checkpoint scope.</summary>
    public string? StartingCheckpoint { get; init; }

    /// <summary><c>recordId</c> or <c>proofRoot</c>, for a checkpoint scope.</summary>
    public string? StartingCheckpointType { get; init; }

    /// <summary>First sequence number in the window (inclusive).</summary>
    public long FromSequenceNumber { get; init; }

    /// <summary>Sequence number after the window's last verified delta (exclusive).</summary>
    public long ToSequenceNumber { get; init; }

    /// <summary>The starting balance the caller supplied (default 0), added to the window's net.</summary>
    public Amount StartingBalance { get; init; }

    /// <summary>The verified all-time balance just before the window (what the record says the window opens at).</summary>
    public Amount OpeningBalance { get; init; }

    /// <summary>The sum of the window's verified deltas.</summary>
    public Amount Net { get; init; }
}

/// <summary>One bucket of a granularity breakdown (day, week or month, UTC).</summary>
public sealed record BalanceBucket
{
    /// <summary>Inclusive start (ISO 8601 UTC).</summary>
    public required string Start { get; init; }

    /// <summary>Exclusive end (ISO 8601 UTC).</summary>
    public required string End { get; init; }

    /// <summary>Sequence number of the bucket's first delta (the next one when the bucket is empty).</summary>
    public required long FirstSequenceNumber { get; init; }

    /// <summary>Verified deltas in the bucket.</summary>
    public required long Count { get; init; }

    /// <summary>Their sum.</summary>
    public required Amount Net { get; init; }

    /// <summary><c>startingBalance</c> plus the window's net up to the bucket's end.</summary>
    public required Amount EndingBalance { get; init; }

    /// <summary>RFC 6962 root over the bucket's item hashes in sequence order (compare windows only).</summary>
    public string? Root { get; init; }
}

/// <summary>Offset paging.</summary>
public sealed record OffsetPagination
{
    /// <summary>Rows requested.</summary>
    public required int Limit { get; init; }

    /// <summary>Rows skipped.</summary>
    public required long Offset { get; init; }

    /// <summary>Rows available.</summary>
    public required long Total { get; init; }
}

/// <summary>Page paging (1-based pages).</summary>
public sealed record PagePagination
{
    /// <summary>Rows available.</summary>
    public required long Total { get; init; }

    /// <summary>The page (1-based).</summary>
    public required int Page { get; init; }

    /// <summary>Rows per page.</summary>
    public required int Limit { get; init; }

    /// <summary>Pages available.</summary>
    public required long TotalPages { get; init; }
}

/// <summary>Response data of <c>GET /api/v1/balance/customers</c>.</summary>
public sealed record CustomerList
{
    /// <summary>One page of customers, ordered by customerId.</summary>
    public required IReadOnlyList<CustomerSummary> Customers { get; init; }

    /// <summary>Paging.</summary>
    public required PagePagination Pagination { get; init; }
}

/// <summary>A customer in a list.</summary>
public sealed record CustomerSummary
{
    /// <summary>The customer.</summary>
    public required string CustomerId { get; init; }

    /// <summary>The keyed customer reference.</summary>
    public required string CustomerReference { get; init; }

    /// <summary>Accepted deltas (verified or not).</summary>
    public required long TotalDeltas { get; init; }

    /// <summary>The all-time balance over VERIFIED deltas.</summary>
    public required Amount ComputedBalance { get; init; }

    /// <summary>When the first delta was accepted.</summary>
    public required string FirstDeltaAt { get; init; }

    /// <summary>When the last delta was accepted.</summary>
    public required string LastDeltaAt { get; init; }
}

/// <summary>Response data of <c>GET /api/v1/balance/customers/{customerId}</c>.</summary>
public sealed record CustomerDetail
{
    /// <summary>The customer.</summary>
    public required string CustomerId { get; init; }

    /// <summary>The keyed customer reference.</summary>
    public required string CustomerReference { get; init; }

    /// <summary>Accepted deltas (verified or not).</summary>
    public required long TotalDeltas { get; init; }

    /// <summary>VERIFIED deltas.</summary>
    public required long VerifiedDeltas { get; init; }

    /// <summary>The all-time balance over VERIFIED deltas.</summary>
    public required Amount ComputedBalance { get; init; }

    /// <summary>Accepted deltas not yet VERIFIED.</summary>
    public required long PendingCount { get; init; }

    /// <summary>Sum of accepted deltas not yet VERIFIED.</summary>
    public required Amount PendingAmount { get; init; }

    /// <summary>Receipt root of the customer's last VERIFIED record.</summary>
    public string? LatestReceiptId { get; init; }

    /// <summary>The latest period checkpoint id (none until period checkpoints exist).</summary>
    public string? LatestCheckpoint { get; init; }

    /// <summary>When the first delta was accepted.</summary>
    public required string FirstDeltaAt { get; init; }

    /// <summary>When the last delta was accepted.</summary>
    public required string LastDeltaAt { get; init; }

    /// <summary>The most recent deltas first, paged by <c>deltaPage</c>/<c>deltaLimit</c>.</summary>
    public required CustomerActivity RecentActivity { get; init; }
}

/// <summary>A page of a customer's activity.</summary>
public sealed record CustomerActivity
{
    /// <summary>The rows, most recent first.</summary>
    public required IReadOnlyList<DeltaRow> Items { get; init; }

    /// <summary>Paging.</summary>
    public required PagePagination Pagination { get; init; }
}

/// <summary>Response data of <c>GET /api/v1/balance/limits</c>: the scope and reconciliation limits.</summary>
public sealed record ScopeLimits
{
    /// <summary>Longest time window, in calendar months.</summary>
    public required int MaxScopeMonths { get; init; }

    /// <summary>Longest days-back window, in days.</summary>
    public required int MaxLastNDays { get; init; }

    /// <summary>Null: Tallystick never expires verified deltas, so any past window can be asked for.</summary>
    public int? MaxRetentionDays { get; init; }

    /// <summary>Buckets in one granularity breakdown.</summary>
    public required int MaxBreakdownBuckets { get; init; }

    /// <summary>Rows in one derive page.</summary>
    public required int MaxDeriveRows { get; init; }

    /// <summary>Records in one side's view of a record-level compare.</summary>
    public required int MaxCompareRecords { get; init; }

    /// <summary>Bytes of a compare request body.</summary>
    public required int MaxCompareBodyBytes { get; init; }

    /// <summary>Discrepancies listed in one compare answer.</summary>
    public required int MaxCompareDiscrepancies { get; init; }

    /// <summary>Ranges in one gaps answer.</summary>
    public required int MaxGapRanges { get; init; }
}
