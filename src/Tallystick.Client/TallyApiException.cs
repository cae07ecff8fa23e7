namespace Tallystick.Client;

/// <summary>
/// The one exception <see cref="TallyClient"/> throws for a failed call: the server refused the request, or it could
/// not be reached within the retry policy. Argument errors (null, out-of-range values that can never be sent) are
/// <see cref="ArgumentException"/>s, and a cancelled <see cref="CancellationToken"/> is an
/// <see cref="OperationCanceledException"/>; neither is wrapped.
/// </summary>
/// <remarks>
/// When retries ran out, the exception describes the <b>last</b> attempt and <see cref="Attempts"/> says how many were
/// made. Immutable; safe to share across threads.
/// </remarks>
public sealed class TallyApiException : Exception
{
    /// <summary>Creates an exception of kind <see cref="TallyErrorKind.Other"/> with code <c>UNKNOWN</c>.</summary>
    public TallyApiException()
        : this("the request failed")
    {
    }

    /// <summary>Creates an exception of kind <see cref="TallyErrorKind.Other"/> with code <c>UNKNOWN</c>.</summary>
    public TallyApiException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates an exception of kind <see cref="TallyErrorKind.Other"/> with code <c>UNKNOWN</c>.</summary>
    public TallyApiException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Kind = TallyErrorKind.Other;
        Code = "UNKNOWN";
        Attempts = 1;
    }

    internal TallyApiException(TallyFailure failure, int attempts)
        : base(failure.Message, failure.Inner)
    {
        Kind = failure.Kind;
        HttpStatus = failure.HttpStatus;
        Code = failure.Code;
        Field = failure.Field;
        RetryAfter = failure.RetryAfter;
        RequestId = failure.RequestId;
        CustomerId = failure.CustomerId;
        Attempts = attempts;
    }

    /// <summary>The classification of the failure; see <see cref="TallyErrorKind"/>.</summary>
    public TallyErrorKind Kind { get; }

    /// <summary>The HTTP status of the last answer; null when no answer arrived (network error, attempt timeout).
    /// </summary>
    public int? HttpStatus { get; }

    /// <summary>
    /// The server's error code (e.g. <c>DELTA_OUT_OF_RANGE</c>, <c>CUSTOMER_NOT_FOUND</c>; docs/api.md lists them),
    /// or a client code: <c>NETWORK_ERROR</c>, <c>TIMEOUT</c>, <c>UNEXPECTED_RESPONSE</c>, <c>HTTP_&lt;status&gt;</c>
    /// when the server sent none, <c>API_KEY_REQUIRED</c> when a client without a key was asked for a call that needs
    /// one (nothing was sent).
    /// </summary>
    public string Code { get; }

    /// <summary>The request field at fault (a JSON path such as <c>delta</c> or <c>deltas[3].reason</c>), when the
    /// server named one.</summary>
    public string? Field { get; }

    /// <summary>How long the server asked to wait (<c>Retry-After</c> header in seconds or as an HTTP date, else the
    /// body's <c>retryAfterSeconds</c>); null when it did not say.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The server's request id (<c>X-Request-Id</c> header or body <c>requestId</c>), when it sent one.
    /// </summary>
    public string? RequestId { get; }

    /// <summary>The customer the error is about (cadence limits), when the server named one.</summary>
    public string? CustomerId { get; }

    /// <summary>Attempts made before giving up (1 when the failure was not retried; 0 when nothing was sent:
    /// <c>API_KEY_REQUIRED</c>).</summary>
    public int Attempts { get; }

    /// <summary>True for the kinds the client retries by itself (see <see cref="TallyErrorKind"/>); when this
    /// exception surfaces with <c>IsTransient</c>, the attempts ran out and a later call may succeed.</summary>
    public bool IsTransient => ErrorMap.IsTransient(Kind);
}
