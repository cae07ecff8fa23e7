namespace Tallystick.Client;

/// <summary>
/// How <see cref="TallyClient"/> retries a failed attempt: bounded attempts, exponential backoff with full jitter,
/// and the server's <c>Retry-After</c> honoured. Immutable; safe to share.
/// </summary>
/// <remarks>
/// <para>Retried: no response (network error), an attempt timeout, 408, 429 (except <c>CADENCE_LIMIT</c>), 5xx and
/// 202 <c>IDEMPOTENCY_PENDING</c>; see <see cref="TallyErrorKind"/>. Never retried: other 4xx (validation, auth, not
/// found, conflicts) and cadence limits.</para>
/// <para>Delay before retry <c>n</c> (1-based): the server's <c>Retry-After</c> when it sent one; otherwise a uniformly
/// random duration in [0, min(<see cref="MaxDelay"/>, <see cref="BaseDelay"/> × 2^(n−1))] ("full jitter"). When
/// <c>Retry-After</c> exceeds <see cref="MaxDelay"/>, the client does not wait and throws at once, with
/// <see cref="TallyApiException.RetryAfter"/> set: waiting that long is the caller's decision.</para>
/// <para>Emits are safe to retry: every attempt of one call carries the same <c>Idempotency-Key</c>.</para>
/// </remarks>
public sealed record TallyRetryPolicy
{
    /// <summary>The most attempts any policy may make (a named bound: retries never run unbounded).</summary>
    public const int AttemptsMaxLimit = 10;

    /// <summary>Attempts by default: one plus two retries, as the official SDKs (<c>maxRetries</c> = 2).</summary>
    public const int DefaultMaxAttempts = 3;

    /// <summary>The default <see cref="BaseDelay"/>: 500 ms, as the official SDKs.</summary>
    public static readonly TimeSpan DefaultBaseDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>The default <see cref="MaxDelay"/>: 30 s.</summary>
    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(30);

    private readonly int _maxAttempts = DefaultMaxAttempts;
    private readonly TimeSpan _baseDelay = DefaultBaseDelay;
    private readonly TimeSpan _maxDelay = DefaultMaxDelay;

    /// <summary>The default policy.</summary>
    public static TallyRetryPolicy Default { get; } = new();

    /// <summary>A policy that makes exactly one attempt.</summary>
    public static TallyRetryPolicy NoRetries { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts per call including the first: 1 to <see cref="AttemptsMaxLimit"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside that range.</exception>
    public int MaxAttempts
    {
        get => _maxAttempts;
        init => _maxAttempts = value is >= 1 and <= AttemptsMaxLimit
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxAttempts), value,
                $"must be from 1 to {AttemptsMaxLimit}");
    }

    /// <summary>The backoff cap before the first retry; doubles per retry. Zero or positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan BaseDelay
    {
        get => _baseDelay;
        init => _baseDelay = value >= TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(BaseDelay), value, "must not be negative");
    }

    /// <summary>The largest delay between attempts, and the largest <c>Retry-After</c> the client waits for.
    /// Zero or positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan MaxDelay
    {
        get => _maxDelay;
        init => _maxDelay = value >= TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxDelay), value, "must not be negative");
    }

    /// <summary>
    /// The backoff before retry <paramref name="retry"/> (1-based) when the server gave no <c>Retry-After</c>:
    /// <paramref name="jitter"/> × min(<see cref="MaxDelay"/>, <see cref="BaseDelay"/> × 2^(retry−1)).
    /// Pure; always within [0, <see cref="MaxDelay"/>].
    /// </summary>
    /// <param name="retry">1 for the first retry.</param>
    /// <param name="jitter">A random number in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="retry"/> &lt; 1 or jitter outside [0, 1].
    /// </exception>
    public TimeSpan BackoffDelay(int retry, double jitter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        if (!(jitter is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "must be in [0, 1]");
        }
        // The exponent is capped so the doubling cannot overflow; MaxDelay bounds the result anyway.
        var ceilingTicks = Math.Min(MaxDelay.Ticks, BaseDelay.Ticks * Math.Pow(2, Math.Min(retry - 1, 30)));
        return TimeSpan.FromTicks((long)(ceilingTicks * jitter));
    }
}
