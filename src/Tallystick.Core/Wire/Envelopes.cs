using System.Text.Json.Serialization;

namespace Tallystick.Wire;

/// <summary>The success envelope of every authenticated endpoint: <c>{"success":true,"data":…}</c>.</summary>
/// <typeparam name="T">The payload record.</typeparam>
public sealed record Envelope<T>(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("data")] T Data);

/// <summary>
/// The error envelope (reference §6.1): <c>{"success":false,"statusCode":400,"error":{"code","message",…},
/// "message"}</c>. It satisfies both the documented shape and the official SDKs' parsers.
/// </summary>
public sealed record ErrorEnvelope
{
    /// <summary>Always false.</summary>
    public bool Success { get; init; }

    /// <summary>The HTTP status code, repeated in the body.</summary>
    public int StatusCode { get; init; }

    /// <summary>The machine-readable error.</summary>
    public required ErrorDetail Error { get; init; }

    /// <summary>The human-readable message (same as <see cref="ErrorDetail.Message"/>).</summary>
    public required string Message { get; init; }

    /// <summary>The error code repeated at top level, as the SDKs also read it there.</summary>
    public required string Code { get; init; }

    /// <summary>Seconds to wait before retrying, when retrying can help.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Public verification only: always false on an error, so a caller reading <c>verified</c> never
    /// mistakes an error for a pass.</summary>
    public bool? Verified { get; init; }

    /// <summary>Public verification only: the root that was asked about, as given.</summary>
    public string? ProofRoot { get; init; }
}

/// <summary>The machine-readable part of an error.</summary>
public sealed record ErrorDetail
{
    /// <summary>A stable code such as <c>VALIDATION_ERROR</c>, <c>DELTA_OUT_OF_RANGE</c> (docs/api.md lists all).</summary>
    public required string Code { get; init; }

    /// <summary>What went wrong and, where it helps, what to do.</summary>
    public required string Message { get; init; }

    /// <summary>The request field at fault (JSON path such as <c>deltas[3].delta</c>), when one is.</summary>
    public string? Field { get; init; }

    /// <summary>Seconds to wait before retrying, when retrying can help.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>The customer the error is about, when one is.</summary>
    public string? CustomerId { get; init; }
}
