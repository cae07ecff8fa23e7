namespace Tallystick.Server.Webhooks;

/// <summary>
/// How deliveries are attempted: the retry backoff, the retry window, timeouts and concurrency. One record so tests
/// can run the whole life of a delivery in seconds (<see cref="TallyOptions"/> test seam); production uses
/// <see cref="Default"/>.
/// </summary>
internal sealed record WebhookSchedule
{
    /// <summary>
    /// Production: retry n waits a uniform random time in [0, min(12 h, 10 s × 2^(n−1))] (exponential backoff, full
    /// jitter) for 3 days after the first attempt, and at least 10 attempts, at most 40; 10 s per attempt;
    /// an endpoint failing for 5 days in a row is disabled.
    /// </summary>
    public static readonly WebhookSchedule Default = new();

    /// <summary>Backoff ceiling of the first retry; doubles per retry.</summary>
    public TimeSpan RetryDelayBase { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Backoff ceiling cap.</summary>
    public TimeSpan RetryDelayMax { get; init; } = TimeSpan.FromHours(12);

    /// <summary>Retries continue this long after the first attempt (Stripe: three days)…</summary>
    public TimeSpan RetryWindow { get; init; } = TimeSpan.FromDays(3);

    /// <summary>…and at least this many attempts are made (PacSpace: up to 10 retries)…</summary>
    public int AttemptsMin { get; init; } = 10;

    /// <summary>…but never more than this many; then the delivery is <c>failed</c>.</summary>
    public int AttemptsMax { get; init; } = 40;

    /// <summary>Time allowed for one attempt: connect, send and the response headers.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>An endpoint whose attempts have all failed for this long is disabled.</summary>
    public TimeSpan DisableAfter { get; init; } = TimeSpan.FromDays(5);

    /// <summary>How often the dispatcher looks for new events and due retries when nothing woke it.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often the dispatcher checks the published head while written events wait for their fsync (a few
    /// milliseconds; then they are fanned out).</summary>
    public TimeSpan HeadPollInterval { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Events waited for longer than this stop the fast head checks (their transaction may have failed);
    /// <see cref="PollInterval"/> still finds them.</summary>
    public TimeSpan HeadWaitMax { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Passes of the dispatcher (each at most one write transaction: fan-out and recorded attempts) start at
    /// least this far apart, so it takes SQLite's write lock, which the sequencer needs on every commit, at most a
    /// few hundred times a second whatever the delivery rate.</summary>
    public TimeSpan PassIntervalMin { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>While no endpoint waits for work (every queue is full: a hanging endpoint, say), the dispatcher writes
    /// (fan-out, recorded attempts) at most this often, in fewer and larger transactions.</summary>
    public TimeSpan WriteIntervalMax { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Attempts in flight to one endpoint at most (a slow endpoint cannot take every slot).</summary>
    public int EndpointInFlightMax { get; init; } = 16;

    /// <summary>Attempts in flight to an endpoint whose last attempt failed: a dead or black-holed endpoint holds one
    /// slot, each for up to <see cref="AttemptTimeout"/>, until an attempt succeeds again.</summary>
    public int FailingEndpointInFlightMax { get; init; } = 1;

    /// <summary>Attempts in flight overall at most.</summary>
    public int InFlightMax { get; init; } = 256;

    /// <summary>Rendered deliveries kept queued per lane of an endpoint, so lanes never wait for a pass.</summary>
    public int QueuedPerLaneMax { get; init; } = 8;

    /// <summary>Rendered deliveries queued over all endpoints at most (bounds the dispatcher's memory).</summary>
    public int QueuedMax { get; init; } = 4096;

    /// <summary>The delay before retry <paramref name="retry"/> (1-based), given a uniform sample in [0, 1).</summary>
    public TimeSpan RetryDelay(int retry, double jitter)
    {
        var exponent = Math.Min(retry - 1, 30);
        var ceiling = Math.Min(RetryDelayMax.TotalMilliseconds, RetryDelayBase.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(Math.Floor(ceiling * jitter));
    }

    /// <summary>Whether a delivery that has made <paramref name="attempts"/> attempts, the first of its window at
    /// <paramref name="windowStart"/>, may be tried again at <paramref name="now"/>.</summary>
    public bool MayRetry(int attempts, DateTimeOffset windowStart, DateTimeOffset now) =>
        attempts < AttemptsMax && (attempts < AttemptsMin || now - windowStart < RetryWindow);
}
