using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Tallystick.Server.Storage;
using Tallystick.Wire;

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

    /// <summary>A page of the plane's delivery log, newest first, as its wire record (shared with the SDK).</summary>
    public WebhookDeliveryList Page(long planeId, string? status, int limit, long offset)
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
        var deliveries = new List<WebhookDelivery>(limit);
        using (var reader = page.ExecuteReader())
        {
            while (reader.Read())
            {
                deliveries.Add(ReadDelivery(reader, attempts));
            }
        }
        return new WebhookDeliveryList
        {
            Deliveries = deliveries,
            Pagination = new OffsetPagination { Limit = limit, Offset = offset, Total = total },
        };
    }

    private static WebhookDelivery ReadDelivery(SqliteDataReader r, SqliteCommand attempts)
    {
        var status = r.GetString(5);
        attempts.Parameters["$d"].Value = r.GetInt64(0);
        var log = new List<WebhookAttempt>();
        using (var a = attempts.ExecuteReader())
        {
            while (a.Read())
            {
                log.Add(new WebhookAttempt
                {
                    AttemptedAt = Timestamps.Format(a.GetInt64(0)),
                    StatusCode = a.IsDBNull(1) ? null : a.GetInt32(1),
                    Error = a.IsDBNull(2) ? null : a.GetString(2),
                    DurationMs = a.GetInt64(3),
                });
            }
        }
        return new WebhookDelivery
        {
            Id = "whd_" + r.GetInt64(0).ToString(CultureInfo.InvariantCulture),
            EventId = WebhookEvent.IdPrefix + r.GetInt64(1).ToString(CultureInfo.InvariantCulture),
            Event = r.GetString(2),
            EndpointId = WebhookEndpoint.IdPrefix + r.GetInt64(3).ToString(CultureInfo.InvariantCulture),
            Url = r.GetString(4),
            Status = status,
            Attempts = r.GetInt32(6),
            NextAttemptAt = Time(status == "pending" && !r.IsDBNull(7) ? r.GetInt64(7) : null),
            LastAttemptAt = Time(r.IsDBNull(8) ? null : r.GetInt64(8)),
            LastStatusCode = r.IsDBNull(9) ? null : r.GetInt32(9),
            LastError = r.IsDBNull(10) ? null : r.GetString(10),
            LastDurationMs = r.IsDBNull(11) ? null : r.GetInt64(11),
            DeliveredAt = Time(r.IsDBNull(12) ? null : r.GetInt64(12)),
            CreatedAt = Timestamps.Format(r.GetInt64(13)),
            AttemptLog = log,
        };
    }

    private static string? Time(long? unixMs) => unixMs is { } ms ? Timestamps.Format(ms) : null;

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
        // Any case: the official SDKs upper-case every status they receive (reference §2.1), so a filter built from
        // a status a caller saw arrives as FAILED.
        var status = context.Request.Query["status"].ToString().ToLowerInvariant();
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
        return Responses.Write(context, StatusCodes.Status200OK,
            log.Page(plane, status.Length > 0 ? status : null, (int)limit, offset),
            WireJson.Default.EnvelopeWebhookDeliveryList);
    }

    private static Task Retry(HttpContext context, string eventId, WebhookDeliveryLog log, WebhookDispatcher dispatcher)
    {
        if (WebhookEvent.TryParseId(eventId) is not { } id || log.Retry(Http.Plane(context).Id, id) is not { } count)
        {
            return Responses.WriteError(context,
                new ApiError("WEBHOOK_EVENT_NOT_FOUND", $"no webhook event '{eventId}' in this environment"));
        }
        dispatcher.Wake();
        return Responses.Write(context, StatusCodes.Status202Accepted,
            new WebhookRetryResult { EventId = eventId, Deliveries = count, Status = "pending" },
            WireJson.Default.EnvelopeWebhookRetryResult);
    }
}
