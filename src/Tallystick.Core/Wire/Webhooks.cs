namespace Tallystick.Wire;

/// <summary>
/// Request body of <c>POST /api/v1/webhooks/endpoints</c> (create: <see cref="Url"/> required) and
/// <c>PATCH /api/v1/webhooks/endpoints/{id}</c> (change: null members are left as they are). The server refuses
/// unknown members, so only these are ever sent.
/// </summary>
public sealed record WebhookEndpointRequest
{
    /// <summary>An absolute <c>http</c>/<c>https</c> URL without credentials, at most 2,048 characters, whose host
    /// resolves to public addresses only (unless the operator allows private targets).</summary>
    public string? Url { get; init; }

    /// <summary>Free text, at most 500 characters.</summary>
    public string? Description { get; init; }

    /// <summary>The event types to deliver (<c>delta.verified</c>, <c>receipt.generated</c>,
    /// <c>checkpoint.verified</c>). Null leaves the filter as it is (every event on create); an empty list means
    /// every event.</summary>
    public IReadOnlyList<string>? Events { get; init; }

    /// <summary>False pauses deliveries; true (re-)enables the endpoint and clears
    /// <see cref="WebhookEndpointResult.DisabledReason"/>.</summary>
    public bool? Enabled { get; init; }
}

/// <summary>
/// A webhook endpoint as the API shows it (<c>/api/v1/webhooks/endpoints</c>). <see cref="Secret"/> is present only
/// in the answers to create and rotate-secret: it is never shown again.
/// </summary>
public sealed record WebhookEndpointResult
{
    /// <summary><c>we_</c> + a decimal id.</summary>
    public required string Id { get; init; }

    /// <summary>Where deliveries are posted.</summary>
    public required string Url { get; init; }

    /// <summary>The description given, if any.</summary>
    public string? Description { get; init; }

    /// <summary>The subscribed event types (every subscribable type when <see cref="AllEvents"/>).</summary>
    public required IReadOnlyList<string> Events { get; init; }

    /// <summary>True when the endpoint has no filter, so it also gets event types added later.</summary>
    public required bool AllEvents { get; init; }

    /// <summary>Whether deliveries are made. The server turns it off after 5 days of failed attempts
    /// (<see cref="DisabledReason"/>).</summary>
    public required bool Enabled { get; init; }

    /// <summary>Alias of <see cref="Enabled"/> (older PacSpace docs).</summary>
    public required bool Active { get; init; }

    /// <summary>Why the server disabled the endpoint; null when it did not.</summary>
    public string? DisabledReason { get; init; }

    /// <summary>The signing secret, <c>whsec_</c> + base64 of 32 random bytes: only in the answers to create and
    /// rotate-secret. Store it then.</summary>
    public string? Secret { get; init; }

    /// <summary>After a rotation: until when (ISO 8601 UTC) the previous secret also signs every delivery.</summary>
    public string? PreviousSecretExpiresAt { get; init; }

    /// <summary>When the endpoint was created, ISO 8601 UTC.</summary>
    public required string CreatedAt { get; init; }

    /// <summary>When the endpoint last changed, ISO 8601 UTC.</summary>
    public required string UpdatedAt { get; init; }
}

/// <summary>Response data of <c>GET /api/v1/webhooks/endpoints</c>: the environment's endpoints, oldest first.
/// </summary>
public sealed record WebhookEndpointList
{
    /// <summary>The endpoints, without secrets.</summary>
    public required IReadOnlyList<WebhookEndpointResult> Endpoints { get; init; }

    /// <summary>Number of entries in <see cref="Endpoints"/>.</summary>
    public required int Count { get; init; }
}

/// <summary>Response data of <c>DELETE /api/v1/webhooks/endpoints/{id}</c>.</summary>
public sealed record WebhookEndpointDeletion
{
    /// <summary>The endpoint id as given.</summary>
    public required string Id { get; init; }

    /// <summary>Always true: pending deliveries to the endpoint stop.</summary>
    public required bool Deleted { get; init; }
}

/// <summary>Response data of <c>POST /api/v1/webhooks/endpoints/{id}/test</c> (202): one <c>test</c> event queued
/// for that endpoint.</summary>
public sealed record WebhookTestResult
{
    /// <summary>The event id, <c>evt_</c> + a decimal id (the <c>X-Event-ID</c> of the delivery).</summary>
    public required string EventId { get; init; }

    /// <summary>The endpoint it goes to.</summary>
    public required string EndpointId { get; init; }

    /// <summary>Always <c>test</c>.</summary>
    public required string Event { get; init; }

    /// <summary>Always <c>pending</c>.</summary>
    public required string Status { get; init; }
}

/// <summary>Response data of <c>GET /api/v1/balance/webhooks</c>: a page of the delivery log, newest first.</summary>
public sealed record WebhookDeliveryList
{
    /// <summary>One row per (event, endpoint).</summary>
    public required IReadOnlyList<WebhookDelivery> Deliveries { get; init; }

    /// <summary>The page.</summary>
    public required OffsetPagination Pagination { get; init; }
}

/// <summary>The delivery of one event to one endpoint, with every attempt made.</summary>
public sealed record WebhookDelivery
{
    /// <summary><c>whd_</c> + a decimal id.</summary>
    public required string Id { get; init; }

    /// <summary>The event, <c>evt_</c> + a decimal id: the same on every attempt (<c>X-Event-ID</c>,
    /// <c>webhook-id</c>).</summary>
    public required string EventId { get; init; }

    /// <summary>The event type, e.g. <c>delta.verified</c>.</summary>
    public required string Event { get; init; }

    /// <summary>The endpoint, <c>we_</c> + a decimal id.</summary>
    public required string EndpointId { get; init; }

    /// <summary>The endpoint's URL.</summary>
    public required string Url { get; init; }

    /// <summary><c>pending</c> (more attempts to come), <c>delivered</c> (a 2xx) or <c>failed</c> (retries ran
    /// out).</summary>
    public required string Status { get; init; }

    /// <summary>Attempts made so far in the current retry window.</summary>
    public required int Attempts { get; init; }

    /// <summary>When the next attempt is due (pending deliveries only), ISO 8601 UTC.</summary>
    public string? NextAttemptAt { get; init; }

    /// <summary>When the last attempt was made, ISO 8601 UTC.</summary>
    public string? LastAttemptAt { get; init; }

    /// <summary>The HTTP status of the last answer; null when none arrived (timeout, connection error).</summary>
    public int? LastStatusCode { get; init; }

    /// <summary>What went wrong with the last attempt, when something did.</summary>
    public string? LastError { get; init; }

    /// <summary>How long the last attempt took, in milliseconds.</summary>
    public long? LastDurationMs { get; init; }

    /// <summary>When a 2xx arrived, ISO 8601 UTC.</summary>
    public string? DeliveredAt { get; init; }

    /// <summary>When the delivery was created, ISO 8601 UTC.</summary>
    public required string CreatedAt { get; init; }

    /// <summary>Every attempt, oldest first.</summary>
    public required IReadOnlyList<WebhookAttempt> AttemptLog { get; init; }
}

/// <summary>One attempt of a <see cref="WebhookDelivery"/>.</summary>
public sealed record WebhookAttempt
{
    /// <summary>When it was made, ISO 8601 UTC.</summary>
    public required string AttemptedAt { get; init; }

    /// <summary>The HTTP status answered; null when no answer arrived.</summary>
    public int? StatusCode { get; init; }

    /// <summary>What went wrong (timeout, connection error, refused target, non-2xx), when something did.</summary>
    public string? Error { get; init; }

    /// <summary>How long it took, in milliseconds.</summary>
    public required long DurationMs { get; init; }
}

/// <summary>Response data of <c>POST /api/v1/balance/webhooks/{eventId}/retry</c> (202).</summary>
public sealed record WebhookRetryResult
{
    /// <summary>The event id as given.</summary>
    public required string EventId { get; init; }

    /// <summary>How many deliveries (one per endpoint the event went to) were made due now.</summary>
    public required int Deliveries { get; init; }

    /// <summary>Always <c>pending</c>.</summary>
    public required string Status { get; init; }
}
