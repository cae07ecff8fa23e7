using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Webhooks;

/// <summary>
/// The delivery log of an environment (<c>GET /api/v1/balance/webhooks</c>), manual redelivery
/// (<c>POST /api/v1/balance/webhooks/{eventId}/retry</c>) and test events.
/// </summary>
internal sealed class WebhookDeliveryLog(Database database, TimeProvider time)
{
    public const int PageMax = 100;
    public const int PageDefault = 25;
    private static readonly string[] Statuses = ["pending", "delivered", "failed"];

    /// <summary>Writes a <c>test</c> event with its one delivery (to <paramref name="endpoint"/>) and returns its id.
    /// </summary>
    public long EnqueueTest(WebhookEndpoint endpoint)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        using var insert = WebhookEndpoints.Command(connection, transaction, """
            INSERT INTO webhook_events (plane_id, type, subject, leaf_index, created_at, fanned_out)
            VALUES ($plane, 'test', $endpoint, -1, $now, 1) RETURNING id
            """, ("$plane", endpoint.PlaneId), ("$endpoint", endpoint.Id), ("$now", now));
        var id = (long)insert.ExecuteScalar()!;
        using var delivery = WebhookEndpoints.Command(connection, transaction, """
            INSERT INTO webhook_deliveries
                (event_id, endpoint_id, plane_id, status, attempts, next_attempt_at, window_start, created_at)
            VALUES ($event, $endpoint, $plane, 'pending', 0, $now, $now, $now)
            """, ("$event", id), ("$endpoint", endpoint.Id), ("$plane", endpoint.PlaneId), ("$now", now));
        delivery.ExecuteNonQuery();
        transaction.Commit();
        return id;
    }

    /// <summary>Makes every delivery of the event due now with a fresh retry window; the number of deliveries, or
    /// null when the event is unknown in the plane.</summary>
    public int? Retry(long planeId, long eventId)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var exists = WebhookEndpoints.Command(connection, transaction,
            "SELECT count(*) FROM webhook_events WHERE id = $id AND plane_id = $plane", ("$id", eventId), ("$plane", planeId)))
        {
            if ((long)exists.ExecuteScalar()! == 0)
            {
                return null;
            }
        }
        using var update = WebhookEndpoints.Command(connection, transaction, """
            UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $now, window_start = $now
            WHERE event_id = $id AND plane_id = $plane
            """, ("$now", now), ("$id", eventId), ("$plane", planeId));
        var count = update.ExecuteNonQuery();
        transaction.Commit();
        return count;
    }

    public void WritePage(Utf8JsonWriter w, long planeId, string? status, long limit, long offset)
    {
        using var connection = database.Open();
        var filter = status is null ? "" : " AND d.status = $status";
        long total;
        using (var count = WebhookEndpoints.Command(connection, null,
            $"SELECT count(*) FROM webhook_deliveries d WHERE d.plane_id = $plane{filter}",
            ("$plane", planeId), ("$status", status)))
        {
            total = (long)count.ExecuteScalar()!;
        }
        using var page = WebhookEndpoints.Command(connection, null, $"""
            SELECT d.id, d.event_id, e.type, d.endpoint_id, w.url, d.status, d.attempts, d.next_attempt_at,
                   d.last_attempt_at, d.last_status_code, d.last_error, d.last_duration_ms, d.delivered_at, d.created_at
            FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
                JOIN webhook_endpoints w ON w.id = d.endpoint_id
            WHERE d.plane_id = $plane{filter} ORDER BY d.id DESC LIMIT $limit OFFSET $offset
            """, ("$plane", planeId), ("$status", status), ("$limit", limit), ("$offset", offset));
        using var attempts = WebhookEndpoints.Command(connection, null, """
            SELECT attempted_at, status_code, error, duration_ms FROM webhook_attempts WHERE delivery_id = $d ORDER BY id
            """, ("$d", 0L));
        w.WriteStartObject();
        w.WriteStartArray("deliveries");
        using (var reader = page.ExecuteReader())
        {
            while (reader.Read())
            {
                WriteDelivery(w, reader, attempts);
            }
        }
        w.WriteEndArray();
        w.WriteStartObject("pagination");
        w.WriteNumber("total", total);
        w.WriteNumber("limit", limit);
        w.WriteNumber("offset", offset);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteDelivery(Utf8JsonWriter w, Microsoft.Data.Sqlite.SqliteDataReader r,
        Microsoft.Data.Sqlite.SqliteCommand attempts)
    {
        w.WriteStartObject();
        w.WriteString("id", "whd_" + r.GetInt64(0).ToString(CultureInfo.InvariantCulture));
        w.WriteString("eventId", WebhookEvent.IdPrefix + r.GetInt64(1).ToString(CultureInfo.InvariantCulture));
        w.WriteString("event", r.GetString(2));
        w.WriteString("endpointId", WebhookEndpoint.IdPrefix + r.GetInt64(3).ToString(CultureInfo.InvariantCulture));
        w.WriteString("url", r.GetString(4));
        w.WriteString("status", r.GetString(5));
        w.WriteNumber("attempts", r.GetInt64(6));
        WriteTime(w, "nextAttemptAt", r.GetString(5) == "pending" && !r.IsDBNull(7) ? r.GetInt64(7) : null);
        WriteTime(w, "lastAttemptAt", r.IsDBNull(8) ? null : r.GetInt64(8));
        if (!r.IsDBNull(9))
        {
            w.WriteNumber("lastStatusCode", r.GetInt64(9));
        }
        if (!r.IsDBNull(10))
        {
            w.WriteString("lastError", r.GetString(10));
        }
        if (!r.IsDBNull(11))
        {
            w.WriteNumber("lastDurationMs", r.GetInt64(11));
        }
        WriteTime(w, "deliveredAt", r.IsDBNull(12) ? null : r.GetInt64(12));
        WriteTime(w, "createdAt", r.GetInt64(13));
        attempts.Parameters["$d"].Value = r.GetInt64(0);
        w.WriteStartArray("attemptLog");
        using (var a = attempts.ExecuteReader())
        {
            while (a.Read())
            {
                w.WriteStartObject();
                WriteTime(w, "attemptedAt", a.GetInt64(0));
                if (!a.IsDBNull(1))
                {
                    w.WriteNumber("statusCode", a.GetInt64(1));
                }
                if (!a.IsDBNull(2))
                {
                    w.WriteString("error", a.GetString(2));
                }
                w.WriteNumber("durationMs", a.GetInt64(3));
                w.WriteEndObject();
            }
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteTime(Utf8JsonWriter w, string name, long? unixMs)
    {
        if (unixMs is { } ms)
        {
            w.WriteString(name, Timestamps.Format(ms));
        }
    }

    public static bool IsStatus(string value) => Statuses.Contains(value);
}

/// <summary>The delivery log routes, under the Balance API as PacSpace has them.</summary>
internal static class WebhookDeliveriesApi
{
    public static void MapWebhookDeliveries(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/balance/webhooks", List);
        app.MapPost("/api/v1/balance/webhooks/{eventId}/retry", Retry);
    }

    private static Task List(HttpContext context, WebhookDeliveryLog log)
    {
        var status = context.Request.Query["status"].ToString();
        if (status.Length > 0 && !WebhookDeliveryLog.IsStatus(status))
        {
            return Responses.WriteError(context,
                new ApiError("INVALID_QUERY", "'status' must be pending, delivered or failed", "status"));
        }
        var (limit, limitError) = Http.QueryNumber(context, "limit", WebhookDeliveryLog.PageDefault, 1, WebhookDeliveryLog.PageMax);
        var (offset, offsetError) = Http.QueryNumber(context, "offset", 0, 0, long.MaxValue);
        if ((limitError ?? offsetError) is { } error)
        {
            return Responses.WriteError(context, error);
        }
        var plane = Http.Plane(context).Id;
        return WebhookEndpointsApi.Write(context, StatusCodes.Status200OK,
            w => log.WritePage(w, plane, status.Length > 0 ? status : null, limit, offset));
    }

    private static Task Retry(HttpContext context, string eventId, WebhookDeliveryLog log, WebhookDispatcher dispatcher)
    {
        if (WebhookEvent.TryParseId(eventId) is not { } id || log.Retry(Http.Plane(context).Id, id) is not { } count)
        {
            return Responses.WriteError(context,
                new ApiError("WEBHOOK_EVENT_NOT_FOUND", $"no webhook event '{eventId}' in this environment"));
        }
        dispatcher.Wake();
        return WebhookEndpointsApi.Write(context, StatusCodes.Status202Accepted, w =>
        {
            w.WriteStartObject();
            w.WriteString("eventId", eventId);
            w.WriteNumber("deliveries", count);
            w.WriteString("status", "pending");
            w.WriteEndObject();
        });
    }
}
