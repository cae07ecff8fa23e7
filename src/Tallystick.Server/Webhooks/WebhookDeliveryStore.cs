using Microsoft.Data.Sqlite;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Webhooks;

/// <summary>An enabled endpoint as the dispatcher sees it: the stored endpoint and whether its last attempt failed.
/// </summary>
internal sealed record DispatchEndpoint(WebhookEndpoint Endpoint, bool Failing);

/// <summary>A pending delivery row that is due.</summary>
internal readonly record struct DueRow(long Id, long EventId, int Attempts, long WindowStart);

/// <summary>How one finished attempt changes its delivery row (<c>Next</c> is null unless it stays pending).</summary>
internal sealed record DeliveryUpdate(long DeliveryId, string Status, int Attempts, long? Next, long AtUnixMs,
    int? StatusCode, string? Error, long DurationMs);

/// <summary>
/// How a batch of attempts changes an endpoint's failure streak: healthy (<c>FailingSince</c> null), or failing since
/// a time, keeping an earlier start of the streak when <c>Continues</c>. <c>EndpointVersion</c> is the endpoint's
/// <c>updated_at</c> the attempts were made with: the write records the health only if the endpoint has not changed
/// since (<see cref="WebhookDeliveryStore.Write"/>).
/// </summary>
internal sealed record EndpointHealth(long EndpointId, long EndpointVersion, long? FailingSince, bool Continues,
    string? LastError)
{
    /// <summary>Each endpoint version's failure streak after these attempts, in the order they ended: healthy if the
    /// last one was delivered; else failing since the first failure after the last success (or since earlier, when
    /// no attempt here succeeded). Final outcomes (the event or endpoint is gone) say nothing about the endpoint.
    /// </summary>
    public static List<EndpointHealth> Of(IEnumerable<FinishedAttempt> finished)
    {
        var health = new List<EndpointHealth>();
        foreach (var group in finished.Where(f => !f.Outcome.Final).GroupBy(f => (f.EndpointId, f.EndpointVersion)))
        {
            var list = group.ToList();
            var lastSuccess = list.FindLastIndex(f => f.Outcome.Delivered);
            var (id, version) = group.Key;
            health.Add(lastSuccess == list.Count - 1
                ? new EndpointHealth(id, version, null, Continues: false, null)
                : new EndpointHealth(id, version, list[lastSuccess + 1].AtUnixMs, Continues: lastSuccess < 0,
                    list[^1].Outcome.Error));
        }
        return health;
    }
}

/// <summary>What a <see cref="WebhookDeliveryStore.Write"/> did to endpoints: the health it recorded (attempts made
/// with an endpoint that has changed since are left out) and the endpoints it disabled.</summary>
internal sealed record HealthWritten(List<EndpointHealth> Recorded, List<long> Disabled);

/// <summary>
/// The dispatcher's database work, on one connection of its own that only the dispatcher's loop uses: read the
/// enabled endpoints and the due deliveries, render payloads (prepared statements), and one write transaction per
/// pass that fans events out and records every attempt finished since the last pass. The connection commits with
/// <c>synchronous = NORMAL</c>: a power loss can lose the last of these commits, which at worst sends a delivery
/// again or fans an event out again (the <c>UNIQUE (event_id, endpoint_id)</c> keeps one delivery): the guarantee
/// stays at least once, while waiting for an fsync inside every write would hold SQLite's single write lock, which
/// the sequencer needs, for milliseconds.
/// </summary>
internal sealed class WebhookDeliveryStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly WriteTurns _turns;
    private readonly SqliteCommand _due;
    private readonly SqliteCommand _ready;

    public WebhookDeliveryStore(Database database)
    {
        _turns = database.Turns;
        var builder = new SqliteConnectionStringBuilder(database.ConnectionString) { Pooling = false };
        _connection = new SqliteConnection(builder.ToString());
        try
        {
            _connection.Open();
            Database.Execute(_connection, "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; " +
                "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 0;");
        }
        catch (SqliteException e)
        {
            _connection.Dispose();
            throw new StoreUnavailableException($"cannot open {database.FilePath}: {e.Message}", e);
        }
        Payloads = new WebhookPayloads(_connection);
        _due = WebhookEndpoints.Command(_connection, null, """
            SELECT id, event_id, attempts, window_start FROM webhook_deliveries
            WHERE endpoint_id = $endpoint AND status = 'pending' AND next_attempt_at <= $now
            ORDER BY next_attempt_at, id LIMIT $limit
            """, ("$endpoint", 0L), ("$now", 0L), ("$limit", 0L));
        _ready = WebhookEndpoints.Command(_connection, null, """
            SELECT max(id) FROM webhook_events WHERE fanned_out = 0 AND
                CASE type WHEN 'receipt.generated' THEN leaf_index < $sequenced ELSE leaf_index < $verified END
            """, ("$sequenced", 0L), ("$verified", 0L));
    }

    public WebhookPayloads Payloads { get; }

    public void Dispose()
    {
        Payloads.Dispose();
        _due.Dispose();
        _ready.Dispose();
        _connection.Dispose();
    }

    /// <summary>Every enabled endpoint of every plane (a small table: at most 16 per environment).</summary>
    public Dictionary<long, DispatchEndpoint> ReadEndpoints()
    {
        using var command = WebhookEndpoints.Command(_connection, null,
            $"SELECT {WebhookEndpoints.Columns}, failing_since FROM webhook_endpoints " +
            "WHERE enabled = 1 AND deleted_at IS NULL");
        using var reader = command.ExecuteReader();
        var endpoints = new Dictionary<long, DispatchEndpoint>();
        while (reader.Read())
        {
            var endpoint = WebhookEndpoints.ReadEndpoint(reader);
            endpoints[endpoint.Id] = new DispatchEndpoint(endpoint, Failing: !reader.IsDBNull(12));
        }
        return endpoints;
    }

    /// <summary>The highest event id that may be fanned out: its state is durable (the published head covers its
    /// log entry; events become durable in id order, commit by commit). Null when none waits.</summary>
    public long? ReadyMax(LogHead head)
    {
        _ready.Parameters["$sequenced"].Value = head.SequencedSize;
        _ready.Parameters["$verified"].Value = head.CheckpointSize;
        return _ready.ExecuteScalar() as long?;
    }

    /// <summary>Up to <paramref name="limit"/> due pending deliveries of an endpoint, oldest due first.</summary>
    public List<DueRow> Due(long endpointId, long nowUnixMs, int limit)
    {
        _due.Parameters["$endpoint"].Value = endpointId;
        _due.Parameters["$now"].Value = nowUnixMs;
        _due.Parameters["$limit"].Value = limit;
        using var reader = _due.ExecuteReader();
        var rows = new List<DueRow>();
        while (reader.Read())
        {
            rows.Add(new DueRow(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetInt64(3)));
        }
        return rows;
    }

    /// <summary>
    /// One transaction: creates the delivery rows of the events up to <paramref name="fanOutMax"/> (one per enabled
    /// endpoint of its plane that existed when the event was committed and subscribes to its type), then records
    /// <paramref name="updates"/> (an attempt row each, the delivery's new state) and <paramref name="health"/>,
    /// disabling endpoints that have failed for <paramref name="disableAfter"/>. A health whose endpoint version is
    /// no longer the endpoint's (it was re-enabled, or otherwise changed, while the attempts were in flight) is left
    /// out: those attempts neither start, extend nor end the streak of the endpoint as it is now, so they cannot
    /// disable an endpoint just given a fresh <paramref name="disableAfter"/>. The check is made in this transaction,
    /// which holds the write lock, so no change slips in between.
    /// </summary>
    public HealthWritten Write(long? fanOutMax, IReadOnlyList<DeliveryUpdate> updates,
        IReadOnlyList<EndpointHealth> health, long nowUnixMs, TimeSpan disableAfter)
    {
        using var turn = _turns.Other();
        using var transaction = _connection.BeginTransaction(deferred: false);
        if (fanOutMax is { } max)
        {
            FanOut(transaction, max, nowUnixMs);
        }
        if (updates.Count > 0)
        {
            Record(transaction, updates);
        }
        var written = new HealthWritten([], []);
        foreach (var endpoint in health)
        {
            if (!IsCurrent(transaction, endpoint))
            {
                continue;
            }
            written.Recorded.Add(endpoint);
            if (RecordHealth(transaction, endpoint, nowUnixMs, disableAfter))
            {
                written.Disabled.Add(endpoint.EndpointId);
            }
        }
        transaction.Commit();
        return written;
    }

    /// <summary>Whether the endpoint is still the version the attempts were made with: every change to an endpoint
    /// moves its <c>updated_at</c> forward (<see cref="WebhookEndpoints.NextVersionSql"/>).</summary>
    private bool IsCurrent(SqliteTransaction transaction, EndpointHealth health)
    {
        using var version = WebhookEndpoints.Command(_connection, transaction,
            "SELECT updated_at FROM webhook_endpoints WHERE id = $id", ("$id", health.EndpointId));
        return version.ExecuteScalar() is long current && current == health.EndpointVersion;
    }

    private void FanOut(SqliteTransaction transaction, long max, long nowUnixMs)
    {
        using var insert = WebhookEndpoints.Command(_connection, transaction, """
            INSERT OR IGNORE INTO webhook_deliveries
                (event_id, endpoint_id, plane_id, status, attempts, next_attempt_at, window_start, created_at)
            SELECT e.id, w.id, e.plane_id, 'pending', 0, $now, $now, $now
            FROM webhook_events e JOIN webhook_endpoints w ON w.plane_id = e.plane_id
            WHERE e.fanned_out = 0 AND e.id <= $max AND w.deleted_at IS NULL AND w.enabled = 1
              AND w.created_at <= e.created_at
              AND (w.events IS NULL OR instr(',' || w.events || ',', ',' || e.type || ',') > 0)
            """, ("$now", nowUnixMs), ("$max", max));
        insert.ExecuteNonQuery();
        using var mark = WebhookEndpoints.Command(_connection, transaction,
            "UPDATE webhook_events SET fanned_out = 1 WHERE fanned_out = 0 AND id <= $max", ("$max", max));
        mark.ExecuteNonQuery();
    }

    private void Record(SqliteTransaction transaction, IReadOnlyList<DeliveryUpdate> updates)
    {
        using var insert = WebhookEndpoints.Command(_connection, transaction, """
            INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms)
            VALUES ($d, $at, $code, $error, $duration)
            """, ("$d", 0L), ("$at", 0L), ("$code", null), ("$error", null), ("$duration", 0L));
        // A manual retry may have reset the row meanwhile; an attempt only moves a delivery that is still pending.
        using var update = WebhookEndpoints.Command(_connection, transaction, """
            UPDATE webhook_deliveries SET status = $status, attempts = $attempts, next_attempt_at = $next,
                last_attempt_at = $at, last_status_code = $code, last_error = $error, last_duration_ms = $duration,
                delivered_at = CASE WHEN $status = 'delivered' THEN $at ELSE delivered_at END
            WHERE id = $d AND status = 'pending'
            """, ("$status", ""), ("$attempts", 0), ("$next", null), ("$at", 0L), ("$code", null), ("$error", null),
            ("$duration", 0L), ("$d", 0L));
        foreach (var u in updates)
        {
            Bind(insert, u);
            insert.ExecuteNonQuery();
            Bind(update, u);
            update.Parameters["$status"].Value = u.Status;
            update.Parameters["$attempts"].Value = u.Attempts;
            update.Parameters["$next"].Value = u.Next is { } next ? next : DBNull.Value;
            update.ExecuteNonQuery();
        }

        static void Bind(SqliteCommand command, DeliveryUpdate u)
        {
            command.Parameters["$d"].Value = u.DeliveryId;
            command.Parameters["$at"].Value = u.AtUnixMs;
            command.Parameters["$code"].Value = u.StatusCode is { } code ? code : DBNull.Value;
            command.Parameters["$error"].Value = u.Error is { } error ? error : DBNull.Value;
            command.Parameters["$duration"].Value = u.DurationMs;
        }
    }

    private bool RecordHealth(SqliteTransaction transaction, EndpointHealth health, long nowUnixMs,
        TimeSpan disableAfter)
    {
        if (health.FailingSince is not { } since)
        {
            using var healthy = WebhookEndpoints.Command(_connection, transaction,
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $id AND failing_since IS NOT NULL",
                ("$id", health.EndpointId));
            healthy.ExecuteNonQuery();
            return false;
        }
        using var failing = WebhookEndpoints.Command(_connection, transaction, health.Continues
                ? "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $since) WHERE id = $id"
                : "UPDATE webhook_endpoints SET failing_since = $since WHERE id = $id",
            ("$since", since), ("$id", health.EndpointId));
        failing.ExecuteNonQuery();
        using var disable = WebhookEndpoints.Command(_connection, transaction, $"""
            UPDATE webhook_endpoints SET enabled = 0, updated_at = {WebhookEndpoints.NextVersionSql},
                disabled_reason = 'every delivery attempt failed since ' ||
                    strftime('%Y-%m-%dT%H:%M:%fZ', failing_since / 1000.0, 'unixepoch') || ' (last: ' || $error || ')'
            WHERE id = $id AND enabled = 1 AND failing_since <= $cutoff
            """, ("$now", nowUnixMs), ("$error", health.LastError), ("$id", health.EndpointId),
            ("$cutoff", nowUnixMs - (long)disableAfter.TotalMilliseconds));
        return disable.ExecuteNonQuery() == 1;
    }
}
