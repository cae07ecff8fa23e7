namespace Tallystick;

/// <summary>
/// Every limit the service enforces, in one place, named big-endian so related limits sort together.
/// Each is part of the public contract and documented in docs/api.md.
/// </summary>
public static class Limits
{
    /// <summary>Largest accepted |delta|: 1,000,000,000 (PacSpace's documented range).</summary>
    public static readonly Amount DeltaAbsMax = Amount.FromDecimal(1_000_000_000m);

    /// <summary>Largest |balance| a customer may reach; a delta that would cross it is refused.</summary>
    public static readonly Amount BalanceAbsMax = Amount.FromDecimal(1_000_000_000_000_000m);

    /// <summary>Items in one batch emit: 1 to 100.</summary>
    public const int BatchDeltasMax = 100;

    /// <summary>Characters in a customer id (pattern <c>[A-Za-z0-9_.:-]</c>).</summary>
    public const int CustomerIdCharsMax = 128;

    /// <summary>Unicode scalar values in a reason (1 to 500).</summary>
    public const int ReasonCharsMax = 500;

    /// <summary>Unicode scalar values in a referenceId (1 to 256).</summary>
    public const int ReferenceIdCharsMax = 256;

    /// <summary>Bytes of a delta's metadata object in canonical (RFC 8785) form.</summary>
    public const int MetadataBytesMax = 4096;

    /// <summary>Nesting depth of metadata: the metadata object itself is depth 1.</summary>
    public const int MetadataDepthMax = 5;

    /// <summary>Request body bytes for a single emit.</summary>
    public const int EmitBodyBytesMax = 64 * 1024;

    /// <summary>Request body bytes for a batch emit.</summary>
    public const int BatchBodyBytesMax = 1024 * 1024;

    /// <summary>Characters in an Idempotency-Key header (printable ASCII).</summary>
    public const int IdempotencyKeyCharsMax = 255;

    /// <summary>Rows in a derive <c>deltas</c> page: 1 to 1000 (default 100).</summary>
    public const int DeriveRowsMax = 1000;

    /// <summary>Default rows in a derive <c>deltas</c> page.</summary>
    public const int DeriveRowsDefault = 100;

    /// <summary>Customers in one list page: 1 to 100 (default 25).</summary>
    public const int CustomerPageMax = 100;

    /// <summary>Activity rows in one customer detail page: 1 to 100 (default 20).</summary>
    public const int ActivityPageMax = 100;

    /// <summary>Longest time window of a scoped request, in calendar months (<c>maxScopeMonths</c>); wider is
    /// <c>SCOPE_TOO_WIDE</c>.</summary>
    public const int ScopeMonthsMax = 12;

    /// <summary>Longest window in days that a days-back scope may ask for (<c>maxLastNDays</c>; such scopes are sent
    /// as <c>custom</c> windows, so this is <see cref="ScopeMonthsMax"/> expressed in days).</summary>
    public const int ScopeLastNDaysMax = 366;

    /// <summary>Buckets in one granularity breakdown (a year by day fits); more is <c>SCOPE_TOO_WIDE</c>.</summary>
    public const int ScopeBucketsMax = 400;

    /// <summary>Request body bytes for a compare (room for two 100,000-record views); other endpoints keep theirs.</summary>
    public const int CompareBodyBytesMax = 16 * 1024 * 1024;

    /// <summary>Records in one side's view of a record-level compare.</summary>
    public const int CompareRecordsMax = 200_000;

    /// <summary>Discrepancies listed in one compare answer; the counts per kind always cover all of them.</summary>
    public const int CompareDiscrepanciesMax = 10_000;

    /// <summary>Ranges in one gaps answer: 1 to 1000 (default 100).</summary>
    public const int GapRangesMax = 1000;

    /// <summary>Default ranges in one gaps answer.</summary>
    public const int GapRangesDefault = 100;
}
