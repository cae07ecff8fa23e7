using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Wire;

namespace Tallystick.Server.Webhooks;

/// <summary>
/// <c>/api/v1/webhooks/endpoints</c>: register, list, change, delete, test and rotate the secret of an environment's
/// webhook endpoints (API key; docs/api.md, Webhooks).
/// </summary>
internal static class WebhookEndpointsApi
{
    public const int BodyBytesMax = 16 * 1024;

    public static void MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/webhooks/endpoints");
        group.MapPost("", Create);
        group.MapGet("", List);
        group.MapGet("/{id}", Get);
        group.MapPatch("/{id}", Patch);
        group.MapDelete("/{id}", Delete);
        group.MapPost("/{id}/rotate-secret", Rotate);
        group.MapPost("/{id}/test", Test);
    }

    private static async Task Create(HttpContext context, WebhookEndpoints endpoints, TallyOptions options)
    {
        var (request, error) = await ReadRequest(context, requireUrl: true);
        if (error is null && await new WebhookTargets(options.WebhooksAllowPrivateTargets)
                .Check(request!.Url, context.RequestAborted) is { } refused)
        {
            error = refused;
        }
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        var (endpoint, limit) = endpoints.Create(Http.Plane(context).Id, request!.Url!, request.Description,
            request.Events, request.Enabled ?? true);
        if (limit is not null)
        {
            await Responses.WriteError(context, limit);
            return;
        }
        await Write(context, StatusCodes.Status201Created, w => WriteEndpoint(w, endpoint!, secret: endpoint!.Secret),
            "Webhook endpoint created. Store the secret now: it is not shown again.");
    }

    private static Task List(HttpContext context, WebhookEndpoints endpoints)
    {
        var list = endpoints.List(Http.Plane(context).Id);
        var data = new WebhookEndpointList
        {
            Endpoints = [.. list.Select(e => ToResult(e, secret: null))],
            Count = list.Count,
        };
        return Responses.Write(context, StatusCodes.Status200OK, data, WireJson.Default.EnvelopeWebhookEndpointList);
    }

    private static Task Get(HttpContext context, string id, WebhookEndpoints endpoints) =>
        WithEndpoint(context, id, number => endpoints.Find(Http.Plane(context).Id, number),
            endpoint => Write(context, StatusCodes.Status200OK, w => WriteEndpoint(w, endpoint, secret: null)));

    private static async Task Patch(HttpContext context, string id, WebhookEndpoints endpoints, TallyOptions options)
    {
        var (request, error) = await ReadRequest(context, requireUrl: false);
        if (error is null && request!.Url is not null &&
            await new WebhookTargets(options.WebhooksAllowPrivateTargets).Check(request.Url, context.RequestAborted) is { } refused)
        {
            error = refused;
        }
        if (error is not null)
        {
            await Responses.WriteError(context, error);
            return;
        }
        var patch = new WebhookEndpointPatch(request!.Url, request.Description, request.Events, request.Enabled,
            ClearEvents: request.EventsGiven && request.Events is null);
        await WithEndpoint(context, id, number => endpoints.Update(Http.Plane(context).Id, number, patch),
            endpoint => Write(context, StatusCodes.Status200OK, w => WriteEndpoint(w, endpoint, secret: null)));
    }

    private static Task Delete(HttpContext context, string id, WebhookEndpoints endpoints)
    {
        if (WebhookEndpoint.TryParseId(id) is { } number && endpoints.Delete(Http.Plane(context).Id, number))
        {
            return Write(context, StatusCodes.Status200OK, w => JsonSerializer.Serialize(w,
                new WebhookEndpointDeletion { Id = id, Deleted = true }, WireJson.Default.WebhookEndpointDeletion));
        }
        return Responses.WriteError(context, NotFound(id));
    }

    private static Task Rotate(HttpContext context, string id, WebhookEndpoints endpoints) =>
        WithEndpoint(context, id, number => endpoints.RotateSecret(Http.Plane(context).Id, number),
            endpoint => Write(context, StatusCodes.Status200OK, w => WriteEndpoint(w, endpoint, secret: endpoint.Secret),
                $"Secret rotated. The previous secret also signs deliveries for {WebhookEndpoints.RotationOverlap.TotalHours:0} hours."));

    private static Task Test(HttpContext context, string id, WebhookEndpoints endpoints, WebhookDeliveryLog log,
        WebhookDispatcher dispatcher) =>
        WithEndpoint(context, id, number => endpoints.Find(Http.Plane(context).Id, number), endpoint =>
        {
            var eventId = log.EnqueueTest(endpoint);
            dispatcher.Wake();
            return Write(context, StatusCodes.Status202Accepted, w => JsonSerializer.Serialize(w, new WebhookTestResult
            {
                EventId = WebhookEvent.IdPrefix + eventId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                EndpointId = endpoint.PublicId,
                Event = WebhookEventTypes.Test,
                Status = "pending",
            }, WireJson.Default.WebhookTestResult));
        });

    private static Task WithEndpoint(HttpContext context, string id, Func<long, WebhookEndpoint?> find,
        Func<WebhookEndpoint, Task> then) =>
        WebhookEndpoint.TryParseId(id) is { } number && find(number) is { } endpoint
            ? then(endpoint)
            : Responses.WriteError(context, NotFound(id));

    private static ApiError NotFound(string id) =>
        new("WEBHOOK_ENDPOINT_NOT_FOUND", $"no webhook endpoint '{id}' in this environment");

    /// <summary>An endpoint as the API answers it (the CLI's <c>--json</c> prints the same objects).</summary>
    internal static void WriteEndpoint(Utf8JsonWriter w, WebhookEndpoint endpoint, string? secret) =>
        JsonSerializer.Serialize(w, ToResult(endpoint, secret), WireJson.Default.WebhookEndpointResult);

    /// <summary>The endpoint as its wire record (shared with the SDK); the secret only when given.</summary>
    private static WebhookEndpointResult ToResult(WebhookEndpoint endpoint, string? secret) =>
        new()
        {
            Id = endpoint.PublicId,
            Url = endpoint.Url,
            Description = endpoint.Description,
            Events = endpoint.Events ?? WebhookEventTypes.Subscribable,
            AllEvents = endpoint.Events is null,
            Enabled = endpoint.Enabled,
            Active = endpoint.Enabled,
            DisabledReason = endpoint.DisabledReason,
            Secret = secret,
            PreviousSecretExpiresAt = endpoint.PreviousSecretUntil is { } until && until > 0
                ? Timestamps.Format(until)
                : null,
            CreatedAt = Timestamps.Format(endpoint.CreatedAt),
            UpdatedAt = Timestamps.Format(endpoint.UpdatedAt),
        };

    internal static Task Write(HttpContext context, int status, Action<Utf8JsonWriter> data, string? message = null)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteBoolean("success", true);
            w.WritePropertyName("data");
            data(w);
            if (message is not null)
            {
                w.WriteString("message", message);
            }
            w.WriteEndObject();
        }
        return Responses.WriteBytes(context, status, buffer.WrittenMemory);
    }

    private sealed record EndpointRequest(string? Url, string? Description, IReadOnlyList<string>? Events,
        bool EventsGiven, bool? Enabled);

    private static async Task<(EndpointRequest? Request, ApiError? Error)> ReadRequest(HttpContext context, bool requireUrl)
    {
        var (body, error) = await Http.ReadJsonBody(context, BodyBytesMax);
        if (error is not null)
        {
            return (null, error);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return (null, new ApiError("MALFORMED_JSON", "the body is not valid JSON"));
        }
        using (document)
        {
            return Parse(document.RootElement, requireUrl);
        }
    }

    private static (EndpointRequest? Request, ApiError? Error) Parse(JsonElement root, bool requireUrl)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, new ApiError("INVALID_BODY", "the body must be a JSON object"));
        }
        string? url = null, description = null;
        IReadOnlyList<string>? events = null;
        bool? enabled = null;
        var eventsGiven = false;
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "url" when value.ValueKind == JsonValueKind.String:
                    url = value.GetString();
                    break;
                case "description" when value.ValueKind is JsonValueKind.String or JsonValueKind.Null:
                    description = value.GetString();
                    if (description is { Length: > WebhookEndpoints.DescriptionCharsMax })
                    {
                        return (null, new ApiError("VALIDATION_ERROR",
                            $"description must be at most {WebhookEndpoints.DescriptionCharsMax} characters", "description"));
                    }
                    break;
                case "events" when value.ValueKind is JsonValueKind.Array or JsonValueKind.Null:
                    eventsGiven = true;
                    if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                    {
                        return (null, new ApiError("VALIDATION_ERROR", "events must be an array of event types", "events"));
                    }
                    var parsed = WebhookEndpoints.ParseEvents(value.ValueKind == JsonValueKind.Null
                        ? null : value.EnumerateArray().Select(e => e.GetString()!));
                    if (parsed.Error is not null)
                    {
                        return (null, parsed.Error);
                    }
                    events = parsed.Events;
                    break;
                case "enabled" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    enabled = value.GetBoolean();
                    break;
                case "url" or "description" or "events" or "enabled":
                    return (null, new ApiError("VALIDATION_ERROR", $"'{property.Name}' has the wrong type", property.Name));
                default:
                    return (null, new ApiError("UNKNOWN_FIELD", $"unknown member '{property.Name}'", property.Name));
            }
        }
        if (requireUrl && url is null)
        {
            return (null, new ApiError("MISSING_FIELD", "url is required", "url"));
        }
        return (new EndpointRequest(url, description, events, eventsGiven, enabled), null);
    }

    /// <summary>Every <c>/api/v1/webhooks/*</c> and <c>/api/v1/balance/*</c> path needs an API key.</summary>
    public static bool NeedsApiKey(PathString path) =>
        path.StartsWithSegments("/api/v1/balance", StringComparison.Ordinal) ||
        path.StartsWithSegments("/api/v1/webhooks", StringComparison.Ordinal);

    public static void AddWebhooks(this IServiceCollection services)
    {
        services.AddSingleton<WebhookEndpoints>();
        services.AddSingleton<WebhookDeliveryLog>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(s => s.GetRequiredService<WebhookDispatcher>());
    }

    /// <summary>Plugs the outbox into the sequencer (before it starts) and maps the webhook routes.</summary>
    public static void MapWebhooks(this WebApplication app)
    {
        var dispatcher = app.Services.GetRequiredService<WebhookDispatcher>();
        var outbox = new WebhookOutbox(app.Services.GetRequiredService<WebhookEndpoints>(), dispatcher.EventsWritten);
        app.Services.GetRequiredService<Deltas.Sequencer>().OnCommit = outbox.OnCommit;
        app.MapWebhookEndpoints();
        app.MapWebhookDeliveries();
    }
}
