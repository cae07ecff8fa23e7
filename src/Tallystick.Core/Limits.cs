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
}
