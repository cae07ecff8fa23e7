using System.Globalization;
using Microsoft.Data.Sqlite;
using Tallystick.Server.Storage;
using Tallystick.Webhooks;

namespace Tallystick.Server.Webhooks;

/// <summary>The event types a delivery can carry (docs/api.md, Webhooks).</summary>
internal static class WebhookEventTypes
{
    public const string DeltaVerified = "delta.verified";
    public const string ReceiptGenerated = "receipt.generated";
    public const string CheckpointVerified = "checkpoint.verified";
    public const string Test = "test";

    /// <summary>The types an endpoint can subscribe to (<c>test</c> is sent on request to one endpoint).</summary>
    public static readonly IReadOnlyList<string> Subscribable = [DeltaVerified, ReceiptGenerated, CheckpointVerified];
}

/// <summary>An endpoint as stored (with its secrets: never answered except the secret once at creation).</summary>
internal sealed record WebhookEndpoint(long Id, long PlaneId, string Url, string? Description,
    IReadOnlyList<string>? Events, bool Enabled, string? DisabledReason, string Secret, string? PreviousSecret,
    long? PreviousSecretUntil, long CreatedAt, long UpdatedAt)
{
    public const string IdPrefix = "we_";

    public string PublicId => IdPrefix + Id.ToString(CultureInfo.InvariantCulture);

    public static long? TryParseId(string text) =>
        text.StartsWith(IdPrefix, StringComparison.Ordinal) && text.Length <= 24 &&
        long.TryParse(text.AsSpan(IdPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : null;

    /// <summary>The secrets that sign a delivery at <paramref name="nowUnixMs"/>: current first, then the previous one
    /// during the rotation overlap.</summary>
    public IReadOnlyList<string> SigningSecrets(long nowUnixMs) =>
        PreviousSecret is { } previous && PreviousSecretUntil > nowUnixMs ? [Secret, previous] : [Secret];
}

/// <summary>A partial update (PATCH): null members are left as they are.</summary>
internal sealed record WebhookEndpointPatch(string? Url, string? Description, IReadOnlyList<string>? Events,
    bool? Enabled, bool ClearEvents);

/// <summary>
/// Webhook endpoints of each plane (API and CLI), and the in-memory snapshot of which planes subscribe to which event
/// types that the sequencer's outbox hook reads on every commit (so with no endpoints the hook costs one read of a
/// field). The snapshot is refreshed on every change made through this instance and every
/// <see cref="SubscriptionsRefreshInterval"/> by the dispatcher (changes made by the CLI in another process).
/// </summary>
internal sealed class WebhookEndpoints(Database database, TimeProvider time)
{
    public const int EndpointsPerPlaneMax = 16;
    public const int DescriptionCharsMax = 500;

    /// <summary>How long a rotated-out secret keeps signing deliveries (PacSpace: 24 hours).</summary>
    public static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);

    public static readonly TimeSpan SubscriptionsRefreshInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The <c>updated_at</c> of every change to an endpoint (SQL, with the change's time in <c>$now</c>): the time,
    /// but always past the previous value, so <c>updated_at</c> is also the endpoint's version. The dispatcher stamps
    /// each attempt with the version it was made with and records the endpoint's health from it only while that is
    /// still the version: an attempt in flight across a re-enable cannot disable the endpoint again, even when the
    /// clock has not moved (<see cref="WebhookDeliveryStore.Write"/>).
    /// </summary>
    internal const string NextVersionSql = "max($now, updated_at + 1)";

    /// <summary>The columns <see cref="ReadEndpoint"/> reads, in its order.</summary>
    internal const string Columns = "id, plane_id, url, description, events, enabled, disabled_reason, secret, " +
        "previous_secret, previous_secret_until, created_at, updated_at";

    private volatile WebhookSubscriptions _subscriptions = WebhookSubscriptions.Load(database);
    private long _version;

    public WebhookSubscriptions Subscriptions => _subscriptions;

    /// <summary>Grows with every change made through this instance and every refresh: the dispatcher reads the
    /// endpoints again when it moved.</summary>
    public long Version => Interlocked.Read(ref _version);

    public void RefreshSubscriptions()
    {
        _subscriptions = WebhookSubscriptions.Load(database);
        Interlocked.Increment(ref _version);
    }

    public (WebhookEndpoint? Endpoint, ApiError? Error) Create(long planeId, string url, string? description,
        IReadOnlyList<string>? events, bool enabled)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var count = Command(connection, transaction,
            "SELECT count(*) FROM webhook_endpoints WHERE plane_id = $plane AND deleted_at IS NULL", ("$plane", planeId)))
        {
            if ((long)count.ExecuteScalar()! >= EndpointsPerPlaneMax)
            {
                return (null, new ApiError("WEBHOOK_ENDPOINTS_LIMIT",
                    $"an environment has at most {EndpointsPerPlaneMax} webhook endpoints"));
            }
        }
        using var insert = Command(connection, transaction, """
            INSERT INTO webhook_endpoints (plane_id, url, description, events, enabled, secret, created_at, updated_at)
            VALUES ($plane, $url, $description, $events, $enabled, $secret, $now, $now) RETURNING id
            """, ("$plane", planeId), ("$url", url), ("$description", description), ("$events", Join(events)),
            ("$enabled", enabled ? 1 : 0), ("$secret", WebhookSignatures.GenerateSecret()), ("$now", now));
        var id = (long)insert.ExecuteScalar()!;
        var endpoint = Read(connection, transaction, planeId, id)!;
        transaction.Commit();
        RefreshSubscriptions();
        return (endpoint, null);
    }

    public IReadOnlyList<WebhookEndpoint> List(long planeId)
    {
        using var connection = database.Open();
        using var command = Command(connection, null,
            $"SELECT {Columns} FROM webhook_endpoints WHERE plane_id = $plane AND deleted_at IS NULL ORDER BY id",
            ("$plane", planeId));
        return ReadAll(command);
    }

    public WebhookEndpoint? Find(long planeId, long id)
    {
        using var connection = database.Open();
        return Read(connection, null, planeId, id);
    }

    public WebhookEndpoint? Update(long planeId, long id, WebhookEndpointPatch patch)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var current = Read(connection, transaction, planeId, id);
        if (current is null)
        {
            return null;
        }
        var enabled = patch.Enabled ?? current.Enabled;
        using (var update = Command(connection, transaction, $"""
            UPDATE webhook_endpoints SET url = $url, description = $description, events = $events, enabled = $enabled,
                disabled_reason = $reason, failing_since = $failing, updated_at = {NextVersionSql} WHERE id = $id
            """, ("$url", patch.Url ?? current.Url), ("$description", patch.Description ?? current.Description),
            ("$events", patch.ClearEvents ? null : Join(patch.Events ?? current.Events)), ("$enabled", enabled ? 1 : 0),
            // Enabling again clears the reason and the failure streak: the endpoint gets a fresh DisableAfter, which
            // attempts still in flight from before cannot shorten (the new version leaves them out of the streak).
            ("$reason", enabled ? null : current.DisabledReason ?? (patch.Enabled == false ? "disabled by the API" : null)),
            ("$failing", null), ("$now", now), ("$id", id)))
        {
            update.ExecuteNonQuery();
        }
        var updated = Read(connection, transaction, planeId, id);
        transaction.Commit();
        RefreshSubscriptions();
        return updated;
    }

    public bool Delete(long planeId, long id)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        using var connection = database.Open();
        using var command = Command(connection, null, $"""
            UPDATE webhook_endpoints SET deleted_at = $now, enabled = 0, updated_at = {NextVersionSql}
            WHERE id = $id AND plane_id = $plane AND deleted_at IS NULL
            """, ("$now", now), ("$id", id), ("$plane", planeId));
        var deleted = command.ExecuteNonQuery() == 1;
        RefreshSubscriptions();
        return deleted;
    }

    /// <summary>Replaces the secret; the old one keeps signing (second signature) for <see cref="RotationOverlap"/>.
    /// </summary>
    public WebhookEndpoint? RotateSecret(long planeId, long id)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var command = Command(connection, transaction, $"""
            UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = $until, secret = $secret,
                updated_at = {NextVersionSql} WHERE id = $id AND plane_id = $plane AND deleted_at IS NULL
            """, ("$until", now + (long)RotationOverlap.TotalMilliseconds), ("$secret", WebhookSignatures.GenerateSecret()),
            ("$now", now), ("$id", id), ("$plane", planeId)))
        {
            if (command.ExecuteNonQuery() == 0)
            {
                return null;
            }
        }
        var endpoint = Read(connection, transaction, planeId, id);
        transaction.Commit();
        Interlocked.Increment(ref _version);
        return endpoint;
    }

    /// <summary>The plane of a tenant environment (for the CLI); null when the tenant has no such plane yet.</summary>
    public long? FindPlane(string tenant, string environment)
    {
        using var connection = database.Open();
        using var command = Command(connection, null,
            "SELECT p.id FROM planes p JOIN tenants t ON t.id = p.tenant_id WHERE t.name = $t AND p.environment = $e",
            ("$t", tenant), ("$e", environment));
        return command.ExecuteScalar() as long?;
    }

    /// <summary>Parses an event filter: each a subscribable type, no duplicates; null or empty = every event.</summary>
    public static (IReadOnlyList<string>? Events, ApiError? Error) ParseEvents(IEnumerable<string>? events)
    {
        if (events is null)
        {
            return (null, null);
        }
        var list = events.ToList();
        foreach (var type in list)
        {
            if (!WebhookEventTypes.Subscribable.Contains(type))
            {
                return (null, new ApiError("VALIDATION_ERROR",
                    $"unknown event type '{type}'; known: {string.Join(", ", WebhookEventTypes.Subscribable)}", "events"));
            }
        }
        return list.Count == 0 ? (null, null) : (list.Distinct().ToList(), null);
    }

    private static string? Join(IReadOnlyList<string>? events) => events is { Count: > 0 } ? string.Join(',', events) : null;

    private static WebhookEndpoint? Read(SqliteConnection connection, SqliteTransaction? transaction, long planeId, long id)
    {
        using var command = Command(connection, transaction,
            $"SELECT {Columns} FROM webhook_endpoints WHERE id = $id AND plane_id = $plane AND deleted_at IS NULL",
            ("$id", id), ("$plane", planeId));
        return ReadAll(command).FirstOrDefault();
    }

    private static List<WebhookEndpoint> ReadAll(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var endpoints = new List<WebhookEndpoint>();
        while (reader.Read())
        {
            endpoints.Add(ReadEndpoint(reader));
        }
        return endpoints;
    }

    /// <summary>The endpoint at the reader's row, whose first columns are <see cref="Columns"/>.</summary>
    internal static WebhookEndpoint ReadEndpoint(SqliteDataReader reader) =>
        new(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4).Split(','),
            reader.GetInt64(5) == 1, reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetString(7),
            reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetInt64(9),
            reader.GetInt64(10), reader.GetInt64(11));

    internal static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql,
        params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return command;
    }
}

/// <summary>
/// Which planes have an enabled endpoint for each event type, as SQL <c>IN</c> lists of plane ids (integers from the
/// database, never user text). Immutable snapshot.
/// </summary>
internal sealed class WebhookSubscriptions
{
    private readonly Dictionary<string, string> _planesByType;

    private WebhookSubscriptions(Dictionary<string, string> planesByType) => _planesByType = planesByType;

    public bool IsEmpty => _planesByType.Count == 0;

    /// <summary>The comma-separated plane ids subscribed to <paramref name="type"/>, or null when none.</summary>
    public string? PlanesFor(string type) => _planesByType.GetValueOrDefault(type);

    public static WebhookSubscriptions Load(Database database)
    {
        using var connection = database.Open();
        using var command = WebhookEndpoints.Command(connection, null,
            "SELECT DISTINCT plane_id, events FROM webhook_endpoints WHERE deleted_at IS NULL AND enabled = 1");
        using var reader = command.ExecuteReader();
        var planes = new Dictionary<string, SortedSet<long>>(StringComparer.Ordinal);
        while (reader.Read())
        {
            var plane = reader.GetInt64(0);
            var types = reader.IsDBNull(1) ? WebhookEventTypes.Subscribable : reader.GetString(1).Split(',');
            foreach (var type in types)
            {
                if (!planes.TryGetValue(type, out var set))
                {
                    planes[type] = set = [];
                }
                set.Add(plane);
            }
        }
        return new WebhookSubscriptions(planes.ToDictionary(p => p.Key,
            p => string.Join(',', p.Value.Select(id => id.ToString(CultureInfo.InvariantCulture))), StringComparer.Ordinal));
    }
}
