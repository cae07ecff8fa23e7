using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Webhooks;

namespace Tallystick.Server.Webhooks;

/// <summary>
/// Delivers the outbox, off the sequencer: fans committed events out to the endpoints subscribed to them (once the
/// state they describe is durable), then attempts due deliveries with bounded concurrency per endpoint and overall,
/// signing every attempt (PacSpace and Standard Webhooks). At least once: an attempt is recorded only after it
/// ends; one interrupted by a stop is attempted again after restart, with the same event id. All state is in SQLite.
/// </summary>
internal sealed class WebhookDispatcher : BackgroundService
{
    /// <summary>Deliveries started per endpoint per pass, at most (the rest wait for the next pass).</summary>
    public const int DueBatchMax = 64;

    /// <summary>Characters of an error message kept in the delivery log.</summary>
    public const int ErrorCharsMax = 300;

    private readonly Database _database;
    private readonly WebhookEndpoints _endpoints;
    private readonly Sequencer _sequencer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly WebhookSchedule _schedule;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Lock _gate = new();
    private readonly HashSet<long> _inFlight = [];
    private readonly Dictionary<long, int> _inFlightByEndpoint = [];
    private readonly List<Task> _attempts = [];

    public WebhookDispatcher(Database database, WebhookEndpoints endpoints, Sequencer sequencer, TimeProvider time,
        TallyOptions options, ILogger<WebhookDispatcher> logger)
    {
        _database = database;
        _endpoints = endpoints;
        _sequencer = sequencer;
        _time = time;
        _logger = logger;
        _schedule = options.WebhookSchedule ?? WebhookSchedule.Default;
        var targets = new WebhookTargets(options.WebhooksAllowPrivateTargets);
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = targets.ConnectAsync,
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = _schedule.AttemptTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = _schedule.EndpointInFlightMax,
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Tallystick-Webhooks/1");
    }

    /// <summary>Asks for a pass now (new events or a manual retry); cheap and safe from any thread.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken: one pending pass covers every wake.
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var lastRefresh = _time.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_time.GetElapsedTime(lastRefresh) >= WebhookEndpoints.SubscriptionsRefreshInterval)
                {
                    _endpoints.RefreshSubscriptions();
                    lastRefresh = _time.GetTimestamp();
                }
                using (var connection = _database.Open())
                {
                    FanOut(connection);
                    StartDue(connection, stoppingToken);
                }
            }
            catch (Exception e) when (e is SqliteException or StoreUnavailableException)
            {
                _logger.LogWarning(e, "webhook dispatcher pass failed; retrying");
            }
            try
            {
                using var delay = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var tick = Task.Delay(_schedule.PollInterval, _time, delay.Token);
                await Task.WhenAny(tick, _wake.WaitAsync(delay.Token));
                await delay.CancelAsync();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
        Task[] running;
        lock (_gate)
        {
            running = [.. _attempts];
        }
        await Task.WhenAll(running);
    }

    /// <summary>
    /// Creates the delivery rows of every durable, not yet fanned-out event: one per enabled endpoint of its plane
    /// that existed when the event was committed and subscribes to its type. Durable: the published head (updated
    /// only after fsync) covers the event's log entry, so no webhook describes state a crash could still lose.
    /// </summary>
    private void FanOut(SqliteConnection connection)
    {
        var head = _sequencer.Head;
        using var transaction = connection.BeginTransaction(deferred: false);
        using var ready = WebhookEndpoints.Command(connection, transaction, """
            SELECT max(id) FROM webhook_events WHERE fanned_out = 0 AND
                CASE type WHEN 'receipt.generated' THEN leaf_index < $sequenced ELSE leaf_index < $verified END
            """, ("$sequenced", head.SequencedSize), ("$verified", head.CheckpointSize));
        if (ready.ExecuteScalar() is not long max)
        {
            return;
        }
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        using var insert = WebhookEndpoints.Command(connection, transaction, """
            INSERT OR IGNORE INTO webhook_deliveries
                (event_id, endpoint_id, plane_id, status, attempts, next_attempt_at, window_start, created_at)
            SELECT e.id, w.id, e.plane_id, 'pending', 0, $now, $now, $now
            FROM webhook_events e JOIN webhook_endpoints w ON w.plane_id = e.plane_id
            WHERE e.fanned_out = 0 AND e.id <= $max AND w.deleted_at IS NULL AND w.enabled = 1
              AND w.created_at <= e.created_at
              AND (w.events IS NULL OR instr(',' || w.events || ',', ',' || e.type || ',') > 0)
            """, ("$now", now), ("$max", max));
        insert.ExecuteNonQuery();
        using var mark = WebhookEndpoints.Command(connection, transaction,
            "UPDATE webhook_events SET fanned_out = 1 WHERE fanned_out = 0 AND id <= $max", ("$max", max));
        mark.ExecuteNonQuery();
        transaction.Commit();
    }

    private void StartDue(SqliteConnection connection, CancellationToken stoppingToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var endpoints = new List<long>();
        using (var due = WebhookEndpoints.Command(connection, null, """
            SELECT DISTINCT d.endpoint_id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
            WHERE d.status = 'pending' AND d.next_attempt_at <= $now AND w.enabled = 1 AND w.deleted_at IS NULL
            """, ("$now", now)))
        using (var reader = due.ExecuteReader())
        {
            while (reader.Read())
            {
                endpoints.Add(reader.GetInt64(0));
            }
        }
        using var select = WebhookEndpoints.Command(connection, null, """
            SELECT id, event_id, attempts, window_start FROM webhook_deliveries
            WHERE endpoint_id = $endpoint AND status = 'pending' AND next_attempt_at <= $now
            ORDER BY next_attempt_at, id LIMIT $limit
            """, ("$endpoint", 0L), ("$now", now), ("$limit", DueBatchMax));
        foreach (var endpointId in endpoints)
        {
            select.Parameters["$endpoint"].Value = endpointId;
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                var delivery = new DueDelivery(reader.GetInt64(0), reader.GetInt64(1), endpointId, reader.GetInt32(2),
                    reader.GetInt64(3));
                if (!TryReserve(delivery))
                {
                    continue;
                }
                var task = Task.Run(() => Attempt(delivery, stoppingToken), CancellationToken.None);
                lock (_gate)
                {
                    _attempts.Add(task);
                }
                _ = task.ContinueWith(t => Release(delivery, t), TaskScheduler.Default);
            }
        }
    }

    private sealed record DueDelivery(long Id, long EventId, long EndpointId, int Attempts, long WindowStart);

    private bool TryReserve(DueDelivery delivery)
    {
        lock (_gate)
        {
            if (_inFlight.Count >= _schedule.InFlightMax || _inFlight.Contains(delivery.Id) ||
                _inFlightByEndpoint.GetValueOrDefault(delivery.EndpointId) >= _schedule.EndpointInFlightMax)
            {
                return false;
            }
            _inFlight.Add(delivery.Id);
            _inFlightByEndpoint[delivery.EndpointId] = _inFlightByEndpoint.GetValueOrDefault(delivery.EndpointId) + 1;
            return true;
        }
    }

    private void Release(DueDelivery delivery, Task task)
    {
        lock (_gate)
        {
            _inFlight.Remove(delivery.Id);
            var left = _inFlightByEndpoint[delivery.EndpointId] - 1;
            if (left == 0)
            {
                _inFlightByEndpoint.Remove(delivery.EndpointId);
            }
            else
            {
                _inFlightByEndpoint[delivery.EndpointId] = left;
            }
            _attempts.Remove(task);
        }
        if (task.Exception is { } e)
        {
            _logger.LogWarning(e, "webhook delivery {Id} attempt failed to run", delivery.Id);
        }
        Wake();
    }

    private async Task Attempt(DueDelivery delivery, CancellationToken stoppingToken)
    {
        WebhookEndpoint? endpoint;
        WebhookEvent? e;
        WebhookPayload? payload;
        using (var connection = _database.Open())
        {
            endpoint = WebhookEndpoints.FindAny(connection, delivery.EndpointId);
            e = WebhookEvent.Read(connection, delivery.EventId);
            payload = e is null ? null : WebhookPayloads.Render(connection, e);
        }
        if (endpoint is null || e is null || payload is null)
        {
            Record(delivery, new AttemptOutcome(null, "the endpoint or the event no longer exists", 0, Final: true));
            return;
        }
        var started = _time.GetTimestamp();
        AttemptOutcome outcome;
        try
        {
            using var request = Sign(endpoint, e, payload);
            using var timeout = new CancellationTokenSource(_schedule.AttemptTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stoppingToken);
            try
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
                var code = (int)response.StatusCode;
                outcome = new AttemptOutcome(code, code is >= 200 and < 300 ? null : $"HTTP {code}", Elapsed(started));
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
            {
                outcome = new AttemptOutcome(null, $"timed out after {_schedule.AttemptTimeout.TotalSeconds:0.###} s",
                    Elapsed(started));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return; // Not attempted as far as the log is concerned: it is sent again after restart.
        }
        catch (HttpRequestException x)
        {
            outcome = new AttemptOutcome(null, x.InnerException?.Message ?? x.Message, Elapsed(started));
        }
        Record(delivery, outcome);
    }

    private long Elapsed(long started) => (long)_time.GetElapsedTime(started).TotalMilliseconds;

    private sealed record AttemptOutcome(int? StatusCode, string? Error, long DurationMs, bool Final = false)
    {
        public bool Delivered => Error is null;
    }

    /// <summary>Builds the signed request. Headers: docs/api.md, Webhooks, "Headers and signatures".</summary>
    private HttpRequestMessage Sign(WebhookEndpoint endpoint, WebhookEvent e, WebhookPayload payload)
    {
        var now = _time.GetUtcNow();
        var milliseconds = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var seconds = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var secrets = endpoint.SigningSecrets(now.ToUnixTimeMilliseconds());
        var pacSpace = secrets.Select(s => WebhookSignatures.PacSpace(s, milliseconds, payload.Body)).ToList();
        var standard = secrets.Select(s => WebhookSignatures.Standard(s, e.PublicId, seconds, payload.Body));
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new ByteArrayContent(payload.Body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        var headers = request.Headers;
        headers.TryAddWithoutValidation("X-PacSpace-Signature", string.Join(',', pacSpace));
        headers.TryAddWithoutValidation("X-PacSpace-Timestamp", milliseconds);
        headers.TryAddWithoutValidation("X-Webhook-Event", e.Type);
        headers.TryAddWithoutValidation("X-Event-ID", e.PublicId);
        headers.TryAddWithoutValidation("Pacspace-Signature", $"t={milliseconds}," + string.Join(',', pacSpace));
        headers.TryAddWithoutValidation("Pacspace-Event", e.Type);
        headers.TryAddWithoutValidation("Idempotency-Key", payload.IdempotencyKey);
        headers.TryAddWithoutValidation("webhook-id", e.PublicId);
        headers.TryAddWithoutValidation("webhook-timestamp", seconds);
        headers.TryAddWithoutValidation("webhook-signature", string.Join(' ', standard));
        return request;
    }

    /// <summary>Records an attempt: the attempt row, the delivery's new state and the endpoint's failure streak
    /// (disabling it after <see cref="WebhookSchedule.DisableAfter"/> of failures), in one short transaction.</summary>
    private void Record(DueDelivery delivery, AttemptOutcome outcome)
    {
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var attempts = delivery.Attempts + 1;
        string status;
        long? next = null;
        if (outcome.Delivered)
        {
            status = "delivered";
        }
        else if (!outcome.Final && _schedule.MayRetry(attempts, DateTimeOffset.FromUnixTimeMilliseconds(delivery.WindowStart), now))
        {
            status = "pending";
            var jitter = RandomNumberGenerator.GetInt32(1_000_000) / 1_000_000.0;
            next = nowMs + (long)_schedule.RetryDelay(attempts, jitter).TotalMilliseconds;
        }
        else
        {
            status = "failed";
        }
        var error = outcome.Error is { Length: > ErrorCharsMax } text ? text[..ErrorCharsMax] : outcome.Error;
        var disabled = false;
        using (var connection = _database.Open())
        using (var transaction = connection.BeginTransaction(deferred: false))
        {
            using (var insert = WebhookEndpoints.Command(connection, transaction, """
                INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms)
                VALUES ($d, $now, $code, $error, $duration)
                """, ("$d", delivery.Id), ("$now", nowMs), ("$code", outcome.StatusCode), ("$error", error),
                ("$duration", outcome.DurationMs)))
            {
                insert.ExecuteNonQuery();
            }
            using (var update = WebhookEndpoints.Command(connection, transaction, """
                UPDATE webhook_deliveries SET status = $status, attempts = $attempts, next_attempt_at = $next,
                    last_attempt_at = $now, last_status_code = $code, last_error = $error, last_duration_ms = $duration,
                    delivered_at = CASE WHEN $status = 'delivered' THEN $now ELSE delivered_at END
                WHERE id = $d AND status = 'pending'
                """, ("$status", status), ("$attempts", attempts), ("$next", next), ("$now", nowMs),
                ("$code", outcome.StatusCode), ("$error", error), ("$duration", outcome.DurationMs), ("$d", delivery.Id)))
            {
                update.ExecuteNonQuery();
            }
            if (!outcome.Final)
            {
                disabled = RecordEndpointHealth(connection, transaction, delivery.EndpointId, outcome, nowMs);
            }
            transaction.Commit();
        }
        if (disabled)
        {
            _logger.LogWarning("webhook endpoint we_{Id} disabled after failing for {Days} days", delivery.EndpointId,
                _schedule.DisableAfter.TotalDays);
            _endpoints.RefreshSubscriptions();
        }
    }

    private bool RecordEndpointHealth(SqliteConnection connection, SqliteTransaction transaction, long endpointId,
        AttemptOutcome outcome, long nowMs)
    {
        if (outcome.Delivered)
        {
            using var healthy = WebhookEndpoints.Command(connection, transaction,
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $id AND failing_since IS NOT NULL",
                ("$id", endpointId));
            healthy.ExecuteNonQuery();
            return false;
        }
        using var failing = WebhookEndpoints.Command(connection, transaction,
            "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $now) WHERE id = $id",
            ("$now", nowMs), ("$id", endpointId));
        failing.ExecuteNonQuery();
        using var disable = WebhookEndpoints.Command(connection, transaction, """
            UPDATE webhook_endpoints SET enabled = 0, updated_at = $now,
                disabled_reason = 'every delivery attempt failed since ' || strftime('%Y-%m-%dT%H:%M:%fZ', failing_since / 1000.0, 'unixepoch') || ' (last: ' || $error || ')'
            WHERE id = $id AND enabled = 1 AND failing_since <= $cutoff
            """, ("$now", nowMs), ("$error", outcome.Error), ("$id", endpointId),
            ("$cutoff", nowMs - (long)_schedule.DisableAfter.TotalMilliseconds));
        return disable.ExecuteNonQuery() == 1;
    }
}
