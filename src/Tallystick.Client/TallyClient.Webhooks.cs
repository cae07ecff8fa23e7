using System.Globalization;
using System.Text.Json;
using Tallystick.Wire;

namespace Tallystick.Client;

// Webhook endpoint management (/api/v1/webhooks/endpoints) and the delivery log (/api/v1/balance/webhooks).
// Calls that the server cannot recognise as repeats (create, rotate-secret, test) are sent once, never retried: a
// retry after a lost answer would register a second endpoint or rotate away the secret the first answer carried.
public sealed partial class TallyClient
{
    private static readonly byte[] EmptyObject = "{}"u8.ToArray();

    /// <summary>
    /// Registers a webhook endpoint (<c>POST /api/v1/webhooks/endpoints</c>) for the key's environment. Sent once,
    /// never retried (a retry after a lost answer would register it twice).
    /// </summary>
    /// <param name="endpoint">The endpoint; <see cref="WebhookEndpointRequest.Url"/> is required.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The endpoint with its <see cref="WebhookEndpointResult.Secret"/> (<c>whsec_…</c>), which is shown
    /// only this once: store it, and give it to <see cref="WebhookVerifier"/>.</returns>
    /// <exception cref="ArgumentException"><see cref="WebhookEndpointRequest.Url"/> is null or empty.</exception>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.Validation"/> (<c>WEBHOOK_URL_NOT_ALLOWED</c>
    /// for a host that resolves to a private, loopback or metadata address; <c>VALIDATION_ERROR</c> with
    /// <see cref="TallyApiException.Field"/> <c>events</c> for an unknown event type),
    /// <see cref="TallyErrorKind.Conflict"/>
    /// (<c>WEBHOOK_ENDPOINTS_LIMIT</c>, 16 per environment), or unreachable.</exception>
    public Task<WebhookEndpointResult> CreateWebhookEndpointAsync(WebhookEndpointRequest endpoint,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (string.IsNullOrEmpty(endpoint.Url))
        {
            throw new ArgumentException("a webhook endpoint needs a url", nameof(endpoint));
        }
        var body = JsonSerializer.SerializeToUtf8Bytes(endpoint, WireJson.Default.WebhookEndpointRequest);
        return SendAsync(HttpMethod.Post, EndpointsPath, body, null, WireJson.Default.EnvelopeWebhookEndpointResult,
            retry: false, cancellationToken);
    }

    /// <summary>Lists the environment's webhook endpoints, oldest first, without secrets
    /// (<c>GET /api/v1/webhooks/endpoints</c>). Retried per policy.</summary>
    /// <exception cref="TallyApiException">Refused or unreachable.</exception>
    public Task<WebhookEndpointList> ListWebhookEndpointsAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, EndpointsPath, null, null, WireJson.Default.EnvelopeWebhookEndpointList,
            cancellationToken);

    /// <summary>Reads one webhook endpoint, without its secret (<c>GET /api/v1/webhooks/endpoints/{id}</c>).
    /// Retried per policy.</summary>
    /// <param name="endpointId">The endpoint id, <c>we_…</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/>
    /// (<c>WEBHOOK_ENDPOINT_NOT_FOUND</c>, also for another environment's endpoint), or unreachable.</exception>
    public Task<WebhookEndpointResult> GetWebhookEndpointAsync(string endpointId,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, EndpointPath(endpointId), null, null,
            WireJson.Default.EnvelopeWebhookEndpointResult, cancellationToken);

    /// <summary>
    /// Changes a webhook endpoint (<c>PATCH /api/v1/webhooks/endpoints/{id}</c>): the members of
    /// <paramref name="changes"/> that are not null; an empty <see cref="WebhookEndpointRequest.Events"/> subscribes
    /// to every event; <c>Enabled = true</c> re-enables an endpoint the server disabled. Retried per policy (the
    /// same change twice has the same effect).
    /// </summary>
    /// <param name="endpointId">The endpoint id, <c>we_…</c>.</param>
    /// <param name="changes">What to change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The endpoint as it now is, without its secret.</returns>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/>,
    /// <see cref="TallyErrorKind.Validation"/> as for create, or unreachable.</exception>
    public Task<WebhookEndpointResult> UpdateWebhookEndpointAsync(string endpointId, WebhookEndpointRequest changes,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var body = JsonSerializer.SerializeToUtf8Bytes(changes, WireJson.Default.WebhookEndpointRequest);
        return SendAsync(HttpMethod.Patch, EndpointPath(endpointId), body, null,
            WireJson.Default.EnvelopeWebhookEndpointResult, cancellationToken);
    }

    /// <summary>
    /// Deletes a webhook endpoint (<c>DELETE /api/v1/webhooks/endpoints/{id}</c>); its pending deliveries stop.
    /// Retried per policy, so when an earlier attempt's answer was lost the last attempt may report
    /// <see cref="TallyErrorKind.NotFound"/> for an endpoint that is in fact deleted.
    /// </summary>
    /// <param name="endpointId">The endpoint id, <c>we_…</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/>
    /// (<c>WEBHOOK_ENDPOINT_NOT_FOUND</c>), or unreachable.</exception>
    public Task<WebhookEndpointDeletion> DeleteWebhookEndpointAsync(string endpointId,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, EndpointPath(endpointId), null, null,
            WireJson.Default.EnvelopeWebhookEndpointDeletion, cancellationToken);

    /// <summary>
    /// Replaces an endpoint's signing secret (<c>POST /api/v1/webhooks/endpoints/{id}/rotate-secret</c>). For
    /// 24 hours (until <see cref="WebhookEndpointResult.PreviousSecretExpiresAt"/>) every delivery carries a second
    /// signature made with the previous secret, so a receiver can switch at its own pace: give
    /// <see cref="WebhookVerifier"/> both secrets meanwhile. Sent once, never retried (a second rotation would
    /// discard the secret this answer carries).
    /// </summary>
    /// <param name="endpointId">The endpoint id, <c>we_…</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The endpoint with its new <see cref="WebhookEndpointResult.Secret"/>, shown only this once.</returns>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/>, or unreachable.</exception>
    public Task<WebhookEndpointResult> RotateWebhookSecretAsync(string endpointId,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, EndpointPath(endpointId) + "/rotate-secret", EmptyObject, null,
            WireJson.Default.EnvelopeWebhookEndpointResult, retry: false, cancellationToken);

    /// <summary>Queues one <c>test</c> event for an endpoint (<c>POST /api/v1/webhooks/endpoints/{id}/test</c>),
    /// delivered and signed like any other. Sent once, never retried.</summary>
    /// <param name="endpointId">The endpoint id, <c>we_…</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The queued event (status <c>pending</c>); follow it in <see cref="GetWebhookDeliveriesAsync"/>.
    /// </returns>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/>, or unreachable.</exception>
    public Task<WebhookTestResult> SendWebhookTestAsync(string endpointId,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, EndpointPath(endpointId) + "/test", EmptyObject, null,
            WireJson.Default.EnvelopeWebhookTestResult, retry: false, cancellationToken);

    /// <summary>
    /// Reads the environment's webhook delivery log, newest first (<c>GET /api/v1/balance/webhooks</c>): one row per
    /// event and endpoint, with every attempt's status code, error and duration. Retried per policy.
    /// </summary>
    /// <param name="status"><see cref="WebhookDeliveryStatuses.Pending"/>,
    /// <see cref="WebhookDeliveryStatuses.Delivered"/> or <see cref="WebhookDeliveryStatuses.Failed"/> (any case);
    /// every delivery when null.</param>
    /// <param name="limit">Rows per page, 1–100; the server's default (25) when null.</param>
    /// <param name="offset">Rows to skip (≥ 0); 0 when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.Validation"/> (<c>INVALID_QUERY</c>) for a
    /// status or paging value out of range, or unreachable.</exception>
    public Task<WebhookDeliveryList> GetWebhookDeliveriesAsync(string? status = null, int? limit = null,
        long? offset = null, CancellationToken cancellationToken = default)
    {
        var path = "api/v1/balance/webhooks" + Query(("status", status),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)),
            ("offset", offset?.ToString(CultureInfo.InvariantCulture)));
        return SendAsync(HttpMethod.Get, path, null, null, WireJson.Default.EnvelopeWebhookDeliveryList,
            cancellationToken);
    }

    /// <summary>
    /// Redelivers an event now (<c>POST /api/v1/balance/webhooks/{eventId}/retry</c>): each of its deliveries, failed
    /// or not, becomes due at once with a fresh retry window. Retried per policy (a repeat only resets the window
    /// again); receivers dedupe on the stable event id anyway.
    /// </summary>
    /// <param name="eventId">The event id, <c>evt_…</c> (<see cref="WebhookDelivery.EventId"/>, the
    /// <c>X-Event-ID</c> header).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many deliveries were made due.</returns>
    /// <exception cref="TallyApiException"><see cref="TallyErrorKind.NotFound"/> (<c>WEBHOOK_EVENT_NOT_FOUND</c>),
    /// or unreachable.</exception>
    public Task<WebhookRetryResult> RetryWebhookEventAsync(string eventId,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventId);
        return SendAsync(HttpMethod.Post, "api/v1/balance/webhooks/" + Uri.EscapeDataString(eventId) + "/retry",
            EmptyObject, null, WireJson.Default.EnvelopeWebhookRetryResult, cancellationToken);
    }

    private const string EndpointsPath = "api/v1/webhooks/endpoints";

    private static string EndpointPath(string endpointId)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpointId);
        return EndpointsPath + "/" + Uri.EscapeDataString(endpointId);
    }
}

/// <summary>The values of <see cref="WebhookDelivery.Status"/>, and the filter of
/// <see cref="TallyClient.GetWebhookDeliveriesAsync"/>.</summary>
public static class WebhookDeliveryStatuses
{
    /// <summary>More attempts are scheduled (<see cref="WebhookDelivery.NextAttemptAt"/>).</summary>
    public const string Pending = "pending";

    /// <summary>An attempt was answered with a 2xx.</summary>
    public const string Delivered = "delivered";

    /// <summary>Every attempt of the retry window failed (about 3 days);
    /// <see cref="TallyClient.RetryWebhookEventAsync"/> starts a new window.</summary>
    public const string Failed = "failed";
}
