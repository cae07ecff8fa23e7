namespace Tallystick.Client;

/// <summary>
/// Settings of a <see cref="TallyClient"/>. Read once by the client's constructor; later changes to a shared
/// instance are not seen. The setters validate their values.
/// </summary>
public sealed class TallyClientOptions
{
    /// <summary>The default <see cref="AttemptTimeout"/>: 30 s, as the official SDKs.</summary>
    public static readonly TimeSpan DefaultAttemptTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _attemptTimeout = DefaultAttemptTimeout;

    /// <summary>
    /// The API key sent as <c>X-Api-Key</c> on every call (<c>pk_test_…</c> or <c>pk_live_…</c>): non-empty
    /// printable ASCII without spaces, checked by the client's constructor. Null for a client without a key (an
    /// auditor, or a customer holding only a proof root): it sends no <c>X-Api-Key</c> header and can make every
    /// public call, <see cref="TallyClient.VerifyAsync"/> and the transparency log's (<c>GetLog…</c>,
    /// <see cref="TallyClient.GetConsistencyProofAsync"/>, so <see cref="TransparencyLogMonitor"/>); every other
    /// call (everything under <c>/api/v1/balance/</c> and <c>/api/v1/webhooks/</c>) then fails before sending with a
    /// <see cref="TallyApiException"/> of kind <see cref="TallyErrorKind.InvalidApiKey"/> and code
    /// <c>API_KEY_REQUIRED</c>.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// The server's base address, e.g. <c>http://127.0.0.1:8080/</c> (a path prefix is kept). When null, the
    /// <see cref="HttpClient.BaseAddress"/> of the client passed in is used; one of the two is required.
    /// </summary>
    public Uri? BaseAddress { get; init; }

    /// <summary>How failed attempts are retried; <see cref="TallyRetryPolicy.Default"/> unless set.</summary>
    public TallyRetryPolicy Retry { get; init; } = TallyRetryPolicy.Default;

    /// <summary>
    /// The longest one attempt (request and response body) may take before it counts as a <see
    /// cref="TallyErrorKind.Timeout"/> and is retried. Positive, or <see cref="Timeout.InfiniteTimeSpan"/> to rely
    /// on <see cref="HttpClient.Timeout"/> alone.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero or negative (other than infinite).</exception>
    public TimeSpan AttemptTimeout
    {
        get => _attemptTimeout;
        init => _attemptTimeout = value > TimeSpan.Zero || value == Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), value, "must be positive or infinite");
    }

    /// <summary>The clock behind retry delays, attempt timeouts, <c>Retry-After</c> dates and verification waits.
    /// <see cref="TimeProvider.System"/> unless set; tests pass a fake.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// The source of backoff jitter: returns a number in [0, 1) and must be safe to call from several threads at
    /// once. Defaults to <see cref="Random.Shared"/>; tests pass a fixed value to make delays exact.
    /// </summary>
    public Func<double> Jitter { get; init; } = Random.Shared.NextDouble;
}
