using Tallystick.Server.Tests;
using Tallystick.Wire;

namespace Tallystick.Client.Tests;

// Goal: the SDK manages webhook endpoints and reads the delivery log against the real server: the secret appears
// only in create and rotate answers and signs real deliveries, changes and deletion take effect, redelivery reuses
// the event id, and refusals map to kinds. Method: a real in-process server (loopback targets allowed) and a real
// loopback receiver; each test creates its own endpoints and filters the log by its own event ids.
public sealed class WebhookManagementTests(InProcessServer server) : IClassFixture<InProcessServer>
{
    [Fact]
    public async Task EndpointLifecycle_CreateListGetPatchRotateDelete_SecretOnlyWhenIssued()
    {
        using var client = server.Client();

        var created = await client.CreateWebhookEndpointAsync(new WebhookEndpointRequest
        {
            Url = "http://127.0.0.1:9/lifecycle", Description = "billing", Events = ["delta.verified"],
        });
        var listed = await client.ListWebhookEndpointsAsync();
        var patched = await client.UpdateWebhookEndpointAsync(created.Id, new WebhookEndpointRequest
        {
            Events = [], Enabled = false, Description = "billing v2",
        });
        var rotated = await client.RotateWebhookSecretAsync(created.Id);
        var read = await client.GetWebhookEndpointAsync(created.Id);
        var deleted = await client.DeleteWebhookEndpointAsync(created.Id);
        var gone = await Assert.ThrowsAsync<TallyApiException>(() => client.GetWebhookEndpointAsync(created.Id));

        Assert.StartsWith("we_", created.Id, StringComparison.Ordinal);
        Assert.Matches("^whsec_[A-Za-z0-9+/]{43}=$", created.Secret);
        Assert.Equal(["delta.verified"], created.Events);
        Assert.False(created.AllEvents);
        Assert.True(created.Enabled);
        var entry = Assert.Single(listed.Endpoints, e => e.Id == created.Id);
        Assert.Null(entry.Secret);
        Assert.Equal(listed.Endpoints.Count, listed.Count);
        Assert.True(patched.AllEvents);
        Assert.Equal(["delta.verified", "receipt.generated", "checkpoint.verified"], patched.Events);
        Assert.False(patched.Enabled);
        Assert.Equal("billing v2", patched.Description);
        Assert.NotNull(rotated.Secret);
        Assert.NotEqual(created.Secret, rotated.Secret);
        Assert.NotNull(rotated.PreviousSecretExpiresAt);
        Assert.Null(read.Secret);
        Assert.Equal(rotated.PreviousSecretExpiresAt, read.PreviousSecretExpiresAt);
        Assert.True(deleted.Deleted);
        Assert.Equal(created.Id, deleted.Id);
        Assert.Equal(TallyErrorKind.NotFound, gone.Kind);
        Assert.Equal("WEBHOOK_ENDPOINT_NOT_FOUND", gone.Code);
    }

    [Fact]
    public async Task CreateEndpoint_Refusals_MapToKindsAndAreNotRetried()
    {
        using var counter = new RequestCounter();
        using var client = server.Client(handler: counter);

        var badEvent = await Assert.ThrowsAsync<TallyApiException>(() => client.CreateWebhookEndpointAsync(
            new WebhookEndpointRequest { Url = "http://127.0.0.1:9/x", Events = ["delta.exploded"] }));
        var badUrl = await Assert.ThrowsAsync<TallyApiException>(() => client.CreateWebhookEndpointAsync(
            new WebhookEndpointRequest { Url = "ftp://127.0.0.1/x" }));
        await Assert.ThrowsAsync<ArgumentException>(() => client.CreateWebhookEndpointAsync(
            new WebhookEndpointRequest { Description = "no url" }));

        Assert.Equal(TallyErrorKind.Validation, badEvent.Kind);
        Assert.Equal("events", badEvent.Field);
        Assert.Equal(TallyErrorKind.Validation, badUrl.Kind);
        Assert.Equal("VALIDATION_ERROR", badUrl.Code);
        Assert.Equal("url", badUrl.Field);
        Assert.Equal(1, badUrl.Attempts);
        Assert.Equal(2, counter.Count); // The ArgumentException was thrown before any request.
    }

    [Fact]
    public async Task TestEvent_DeliveredSignedLoggedAndRedeliveredWithSameEventId()
    {
        await using var receiver = await WebhookReceiver.Start();
        using var client = server.Client(InProcessServer.GlobexTest);
        var endpoint = await client.CreateWebhookEndpointAsync(new WebhookEndpointRequest { Url = receiver.Url });

        var queued = await client.SendWebhookTestAsync(endpoint.Id);
        var first = await receiver.WaitFor(r => r.Count >= 1, "the test event");
        var delivered = await WaitForDelivery(client, queued.EventId, WebhookDeliveryStatuses.Delivered);
        var retried = await client.RetryWebhookEventAsync(queued.EventId);
        var both = await receiver.WaitFor(r => r.Count >= 2, "the redelivery");
        var unknown = await Assert.ThrowsAsync<TallyApiException>(() => client.RetryWebhookEventAsync("evt_999999"));

        Assert.Equal("test", queued.Event);
        Assert.Equal(WebhookDeliveryStatuses.Pending, queued.Status);
        var verifier = new WebhookVerifier(endpoint.Secret!);
        Assert.All(both, r => Assert.Equal(WebhookVerificationStatus.Verified, verifier.Verify(r.Header, r.Body)));
        Assert.All(both, r => Assert.Equal(queued.EventId, r.Header("X-Event-ID")));
        Assert.Equal("test", first[0].Header("X-Webhook-Event"));
        Assert.Equal(endpoint.Id, delivered.EndpointId);
        Assert.Equal(receiver.Url, delivered.Url);
        Assert.Equal("test", delivered.Event);
        Assert.Equal(200, delivered.LastStatusCode);
        Assert.NotNull(delivered.DeliveredAt);
        Assert.Equal(200, Assert.Single(delivered.AttemptLog).StatusCode);
        Assert.Equal(new WebhookRetryResult { EventId = queued.EventId, Deliveries = 1, Status = "pending" }, retried);
        Assert.Equal(TallyErrorKind.NotFound, unknown.Kind);
        Assert.Equal("WEBHOOK_EVENT_NOT_FOUND", unknown.Code);
    }

    [Fact]
    public async Task DeliveryLog_PagingAndStatusFilter_AsAsked()
    {
        await using var receiver = await WebhookReceiver.Start();
        using var client = server.Client(InProcessServer.GlobexTest);
        var endpoint = await client.CreateWebhookEndpointAsync(new WebhookEndpointRequest { Url = receiver.Url });
        var first = await client.SendWebhookTestAsync(endpoint.Id);
        var second = await client.SendWebhookTestAsync(endpoint.Id);
        await WaitForDelivery(client, first.EventId, WebhookDeliveryStatuses.Delivered);
        await WaitForDelivery(client, second.EventId, WebhookDeliveryStatuses.Delivered);

        var page = await client.GetWebhookDeliveriesAsync(WebhookDeliveryStatuses.Delivered, limit: 1, offset: 0);
        var failed = await client.GetWebhookDeliveriesAsync(WebhookDeliveryStatuses.Failed);
        var bad = await Assert.ThrowsAsync<TallyApiException>(() => client.GetWebhookDeliveriesAsync("lost"));

        Assert.Equal(second.EventId, Assert.Single(page.Deliveries).EventId); // Newest first.
        Assert.Equal(1, page.Pagination.Limit);
        Assert.True(page.Pagination.Total >= 2);
        Assert.DoesNotContain(failed.Deliveries, d => d.EventId == first.EventId || d.EventId == second.EventId);
        Assert.Equal(TallyErrorKind.Validation, bad.Kind);
        Assert.Equal("INVALID_QUERY", bad.Code);
        Assert.Equal("status", bad.Field);
    }

    private static async Task<WebhookDelivery> WaitForDelivery(TallyClient client, string eventId, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var log = await client.GetWebhookDeliveriesAsync(limit: 100);
            if (log.Deliveries.FirstOrDefault(d => d.EventId == eventId && d.Status == status) is { } delivery)
            {
                return delivery;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{eventId} not {status} within 15 s");
            await Task.Delay(10);
        }
    }

    /// <summary>Passes requests to the real server and counts them.</summary>
    private sealed class RequestCounter() : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
            CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
