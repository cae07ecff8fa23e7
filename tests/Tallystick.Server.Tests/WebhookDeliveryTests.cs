using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Tallystick.Server.Webhooks;

namespace Tallystick.Server.Tests;

// Goal: the delivery rules of issue 5 that WebhookTests does not cover: a receiver that is down and comes up, a
// hanging endpoint that holds only its own slots while another endpoint and verification go on, a failing endpoint
// sent one attempt at a time, redirects not followed, and many events each delivered once with its own id.
// Method: a real server and real HTTP receivers on loopback (WebhookReceiver); a short retry schedule through the
// internal seam; concurrency is read from the receiver (the most requests it held at once), never from timings.
public sealed class WebhookDeliveryTests
{
    private static readonly WebhookSchedule Fast = new()
    {
        RetryDelayBase = TimeSpan.FromMilliseconds(20),
        RetryDelayMax = TimeSpan.FromMilliseconds(50),
        // Long enough that a loaded test machine never turns a refused connection or a delivered request into a
        // timeout (that made ReceiverDown see "timed out" and ManyEvents count retried duplicates).
        AttemptTimeout = TimeSpan.FromSeconds(5),
        PollInterval = TimeSpan.FromMilliseconds(20),
    };

    private static async Task<RunningServer> Start(WebhookSchedule schedule)
    {
        var server = new RunningServer { WebhookSchedule = schedule, AllowPrivateWebhookTargets = true };
        await server.InitializeAsync();
        return server;
    }

    private static async Task<string> CreateEndpoint(HttpClient client, string url, string events)
    {
        var (status, body) = await Api.Post(client, "api/v1/webhooks/endpoints",
            $"{{\"url\":\"{url}\",\"events\":{events}}}");
        Assert.Equal(201, status);
        return body.GetProperty("data").GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> WaitDeliveries(HttpClient client, string status, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var (_, body) = await Api.Get(client, $"api/v1/balance/webhooks?status={status}&limit=100");
            var data = body.GetProperty("data");
            if (data.GetProperty("pagination").GetProperty("total").GetInt64() >= count)
            {
                return data;
            }
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} {status} deliveries within 15 s");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task ReceiverDown_ConnectionRefusedThenUp_RetriedAndDelivered()
    {
        var server = await Start(Fast);
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        try
        {
            using var client = server.Client();
            await CreateEndpoint(client, $"http://127.0.0.1:{port}/hook", "[\"delta.verified\"]");
            await Api.Post(client, "api/v1/balance/delta", Api.Emit("cust_down", "2"));
            var pending = await WaitPendingWithError(client);
            Assert.Contains("refused", pending.GetProperty("lastError").GetString(), StringComparison.OrdinalIgnoreCase);
            Assert.False(pending.TryGetProperty("lastStatusCode", out _));

            await using var receiver = await WebhookReceiver.Start(port);

            var received = await receiver.WaitFor(r => r.Count >= 1, "the delivery once the receiver is up");
            var delivered = (await WaitDeliveries(client, "delivered", 1)).GetProperty("deliveries")[0];
            Assert.Equal(received[0].Header("X-Event-ID"), delivered.GetProperty("eventId").GetString());
            Assert.True(delivered.GetProperty("attempts").GetInt32() >= 2);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<JsonElement> WaitPendingWithError(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var (_, body) = await Api.Get(client, "api/v1/balance/webhooks?status=pending");
            var deliveries = body.GetProperty("data").GetProperty("deliveries");
            if (deliveries.GetArrayLength() > 0 && deliveries[0].GetProperty("attempts").GetInt32() > 0)
            {
                return deliveries[0];
            }
            Assert.True(DateTime.UtcNow < deadline, "no failed attempt recorded within 15 s");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task HangingEndpoint_HoldsOnlyItsOwnSlots_OtherEndpointAndVerificationGoOn()
    {
        // Attempts to the hanging endpoint last the whole test (30 s timeout): only its 2 slots are ever taken.
        var server = await Start(Fast with { AttemptTimeout = TimeSpan.FromSeconds(30), EndpointInFlightMax = 2 });
        await using var hanging = await WebhookReceiver.Start();
        await using var healthy = await WebhookReceiver.Start();
        hanging.Respond = _ => -1;
        try
        {
            using var client = server.Client();
            await CreateEndpoint(client, hanging.Url, "[\"delta.verified\"]");
            await CreateEndpoint(client, healthy.Url, "[\"delta.verified\"]");
            await Api.EmitDistinctCustomers(client, "cust_hang", 20);

            await healthy.WaitFor(r => r.Count >= 20, "all 20 events at the healthy endpoint");
            await hanging.WaitFor(r => r.Count >= 2, "two attempts held by the hanging endpoint");
            var (status, emitted) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("cust_after", "1"));
            Assert.Equal(201, status);
            await Api.WaitVerified(client, emitted.GetProperty("data").GetProperty("recordId").GetString()!);
            await healthy.WaitFor(r => r.Count >= 21, "the event of a delta emitted while the other endpoint hangs");

            Assert.Equal(21, healthy.Requests.Select(r => r.Header("X-Event-ID")).Distinct().Count());
            Assert.Equal(2, hanging.Requests.Count);
            Assert.Equal(2, hanging.MaxConcurrent);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task FailingEndpoint_OneAttemptInFlight_UntilAnAttemptSucceeds()
    {
        var server = await Start(Fast with { EndpointInFlightMax = 4, FailingEndpointInFlightMax = 1 });
        await using var receiver = await WebhookReceiver.Start();
        receiver.Respond = _ => 500;
        try
        {
            using var client = server.Client();
            await CreateEndpoint(client, receiver.Url, "[\"delta.verified\"]");
            await Api.Post(client, "api/v1/balance/delta", Api.Emit("cust_failing", "1"));
            await WaitPendingWithError(client);
            receiver.Delay = TimeSpan.FromMilliseconds(30);
            receiver.ResetMaxConcurrent();

            await Api.EmitDistinctCustomers(client, "cust_failing_more", 10);
            await receiver.WaitFor(r => r.Count >= 12, "ten more failed attempts");

            Assert.Equal(1, receiver.MaxConcurrent);
            receiver.Respond = _ => 200;
            var delivered = await WaitDeliveries(client, "delivered", 11);
            Assert.Equal(11, delivered.GetProperty("pagination").GetProperty("total").GetInt64());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Redirect_NotFollowed_RecordedAsFailedAttempt()
    {
        var server = await Start(Fast with { AttemptsMin = 1, AttemptsMax = 1 });
        await using var redirecting = await WebhookReceiver.Start();
        await using var target = await WebhookReceiver.Start();
        redirecting.Respond = _ => 307;
        redirecting.ResponseHeaders["Location"] = target.Url;
        try
        {
            using var client = server.Client();
            await CreateEndpoint(client, redirecting.Url, "[\"delta.verified\"]");
            await Api.Post(client, "api/v1/balance/delta", Api.Emit("cust_redirect", "1"));

            var failed = (await WaitDeliveries(client, "failed", 1)).GetProperty("deliveries")[0];

            Assert.Equal(307, failed.GetProperty("lastStatusCode").GetInt32());
            Assert.Equal("HTTP 307", failed.GetProperty("lastError").GetString());
            Assert.Single(redirecting.Requests);
            Assert.Empty(target.Requests);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task ManyEvents_EachDeliveredOnceWithItsOwnIdAndBody()
    {
        var server = await Start(Fast);
        await using var receiver = await WebhookReceiver.Start();
        try
        {
            using var client = server.Client();
            await CreateEndpoint(client, receiver.Url, "[\"delta.verified\"]");
            await Api.EmitDistinctCustomers(client, "cust_many", 300);

            var requests = await receiver.WaitFor(r => r.Count >= 300, "300 deliveries");
            await WaitDeliveries(client, "delivered", 300);

            Assert.Equal(300, requests.Select(r => r.Header("X-Event-ID")).Distinct().Count());
            Assert.Equal(300, requests.Select(r => r.Json.GetProperty("data").GetProperty("customerId").GetString())
                .Distinct().Count());
            Assert.All(requests, r => Assert.Equal(r.Header("X-Event-ID"), r.Json.GetProperty("id").GetString()));
            await Task.Delay(100);
            Assert.Equal(300, receiver.Requests.Count);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
