namespace Tallystick.Client;

/// <summary>
/// What kind of failure a <see cref="TallyApiException"/> reports, derived from the HTTP status and the error code in
/// one place (docs/sdk.md has the table). Branch on this, not on status numbers: the same kind covers PacSpace's and
/// Tallystick's spellings of a failure.
/// </summary>
/// <remarks>
/// <see cref="TallyApiException.IsTransient"/> says whether the kind is retried automatically: <see cref="Network"/>,
/// <see cref="Timeout"/>, <see cref="RateLimited"/>, <see cref="ServiceUnavailable"/>, <see cref="Server"/> and
/// <see cref="IdempotencyPending"/> are; the others never are, because sending the same request again cannot succeed.
/// </remarks>
public enum TallyErrorKind
{
    /// <summary>A status or code this SDK version does not classify (e.g. 402, 412, or a 2xx body that is not the
    /// expected envelope: code <c>UNEXPECTED_RESPONSE</c>). Not retried; inspect <see cref="TallyApiException.Code"/>.
    /// </summary>
    Other = 0,

    /// <summary>401 or 403, or code <c>INVALID_API_KEY</c>: the key is missing, malformed, unknown, revoked, of the
    /// other environment, or not allowed here. Also code <c>API_KEY_REQUIRED</c> (no status, nothing sent): the client
    /// has no <see cref="TallyClientOptions.ApiKey"/> and the call is not a public one. Not retried.</summary>
    InvalidApiKey,

    /// <summary>400, 413, 415 or 422 (any code not classified more precisely): the request can never succeed as sent.
    /// <see cref="TallyApiException.Field"/> names the field at fault when the server says. Not retried.</summary>
    Validation,

    /// <summary>Codes <c>INVALID_SCOPE_COMBINATION</c>, <c>SCOPE_TOO_WIDE</c>, <c>UNSUPPORTED_SCOPE</c>: the time scope
    /// or checkpoint of a derive/compare is refused. Not retried.</summary>
    Scope,

    /// <summary>404 (<c>NOT_FOUND</c>, <c>RECORD_NOT_FOUND</c>, <c>CUSTOMER_NOT_FOUND</c>). Not retried.</summary>
    NotFound,

    /// <summary>409 (<c>IDEMPOTENCY_KEY_REUSED</c>, <c>REFERENCE_ID_CONFLICT</c>): the key or referenceId was already
    /// used for different content. Not retried.</summary>
    Conflict,

    /// <summary>202 <c>IDEMPOTENCY_PENDING</c>: an earlier attempt with the same Idempotency-Key is still in progress.
    /// Retried (after <c>Retry-After</c>); surfaces only when the attempts run out.</summary>
    IdempotencyPending,

    /// <summary>429 other than a cadence limit (<c>RATE_LIMITED</c>). Retried after <c>Retry-After</c>.</summary>
    RateLimited,

    /// <summary>Code <c>CADENCE_LIMIT</c> (a 429): the customer's submission cadence is exhausted. Never retried
    /// automatically, as in the official SDKs; <see cref="TallyApiException.RetryAfter"/> says when to try again.
    /// </summary>
    CadenceLimited,

    /// <summary>503 (<c>SERVICE_UNAVAILABLE</c>): nothing was recorded. Retried after <c>Retry-After</c>.</summary>
    ServiceUnavailable,

    /// <summary>408 or 504, an attempt that exceeded <see cref="TallyClientOptions.AttemptTimeout"/> or the
    /// <see cref="HttpClient.Timeout"/> (code <c>TIMEOUT</c>), or a wait for VERIFIED that ran out of time. Retried,
    /// except the wait.</summary>
    Timeout,

    /// <summary>Any other 5xx (<c>INTERNAL_ERROR</c>, 502, …). Retried.</summary>
    Server,

    /// <summary>No HTTP response: connection refused or reset, DNS failure, TLS failure (code <c>NETWORK_ERROR</c>).
    /// Retried.</summary>
    Network,
}
