using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Client;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Server.Webhooks;

namespace Tallystick.Server.Tests;

// Goal: webhooks always arrive, signed so the SDK's verifier accepts them, and only for state that committed.
// Method: a real server and real HTTP receivers on loopback (WebhookReceiver); a short retry schedule through the
// internal seam keeps retries in milliseconds; the sequencer's fault hook fails a transaction to check the outbox.
public sealed class WebhookTests
{
    private static readonly WebhookSchedule Fast = new()
    {
        RetryDelayBase = TimeSpan.FromMilliseconds(20),
        RetryDelayMax = TimeSpan.FromMilliseconds(50),
        AttemptTimeout = TimeSpan.FromMilliseconds(500),
        PollInterval = TimeSpan.FromMilliseconds(20),
    };

    private static async Task<(string Id, string Secret)> CreateEndpoint(HttpClient client, string url, string? events = null)
    {
        var (status, body) = await Api.Post(client, "api/v1/webhooks/endpoints",
            $"{{\"url\":\"{url}\",\"description\":\"test\"{(events is null ? "" : $",\"events\":{events}")}}}");
        Assert.Equal(201, status);
        var data = body.GetProperty("data");
        return (data.GetProperty("id").GetString()!, data.GetProperty("secret").GetString()!);
    }

    private static async Task<RunningServer> Start(WebhookSchedule? schedule = null, bool allowPrivate = true)
    {
        var server = new RunningServer { WebhookSchedule = schedule ?? Fast, AllowPrivateWebhookTargets = allowPrivate };
        await server.InitializeAsync();
        return server;
    }

    [Fact]
    public async Task DeltaVerified_DeliveredWithAllHeaders_SignaturesVerifyWithSdk()
    {
        var server = await Start();
        await using var receiver = await WebhookReceiver.Start();
        try
        {
            using var client = server.Client();
            var (endpointId, secret) = await CreateEndpoint(client, receiver.Url, "[\"delta.verified\"]");
            var (_, emitted) = await Api.Post(client, "api/v1/balance/delta",
                """{"customerId":"cust_wh","delta":-42.5,"reason":"gpu","referenceId":"job_1","metadata":{"k":1}}""");
            var recordId = emitted.GetProperty("data").GetProperty("recordId").GetString()!;

            var received = (await receiver.WaitFor(r => r.Count >= 1, "delta.verified"))[0];

            var verifier = new WebhookVerifier(secret);
            Assert.Equal(WebhookVerificationStatus.Verified, verifier.Verify(received.Headers, received.Body));
            Assert.Equal(WebhookVerificationStatus.Verified, verifier.VerifyPacSpace(
                received.Header("X-PacSpace-Signature"), received.Header("X-PacSpace-Timestamp"), received.Body));
            Assert.Equal(WebhookVerificationStatus.Verified, verifier.VerifyPacSpace(
                received.Header("Pacspace-Signature"), null, received.Body));
            Assert.Equal(WebhookVerificationStatus.SignatureMismatch,
                new WebhookVerifier("whsec_" + Convert.ToBase64String(new byte[32])).Verify(received.Headers, received.Body));
            var json = received.Json;
            var data = json.GetProperty("data");
            var eventId = json.GetProperty("id").GetString()!;
            Assert.StartsWith("evt_", eventId, StringComparison.Ordinal);
            Assert.Equal(eventId, received.Header("X-Event-ID"));
            Assert.Equal(eventId, received.Header("webhook-id"));
            Assert.Equal("delta.verified", received.Header("X-Webhook-Event"));
            Assert.Equal("delta.verified", received.Header("Pacspace-Event"));
            Assert.Equal("delta.verified", json.GetProperty("event").GetString());
            Assert.Equal("acme", json.GetProperty("tenantId").GetString());
            Assert.True(long.Parse(received.Header("X-PacSpace-Timestamp")) > 1_000_000_000_000);
            Assert.True(long.Parse(received.Header("webhook-timestamp")) < 10_000_000_000);
            Assert.Equal(recordId, data.GetProperty("recordId").GetString());
            var receipt = data.GetProperty("receiptId").GetString()!;
            Assert.Equal($"{receipt}:acme", received.Header("Idempotency-Key"));
            Assert.Equal(-42.5m, data.GetProperty("delta").GetProperty("amount").GetDecimal());
            Assert.Equal("job_1", data.GetProperty("delta").GetProperty("referenceId").GetString());
            Assert.Equal(1, data.GetProperty("delta").GetProperty("metadata").GetProperty("k").GetInt32());
            Assert.Equal(receipt, data.GetProperty("proof").GetProperty("proofHash").GetString());
            Assert.Equal(data.GetProperty("itemHash").GetString(), data.GetProperty("proof").GetProperty("contentHash").GetString());
            Assert.True(data.GetProperty("verification").GetProperty("verified").GetBoolean());
            Assert.Equal(0, data.GetProperty("sequenceNumber").GetInt64());
            Assert.Equal(endpointId, (await Api.Get(client, "api/v1/balance/webhooks")).Body.GetProperty("data")
                .GetProperty("deliveries")[0].GetProperty("endpointId").GetString());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task FailingReceiver_500TimeoutGoneThenOk_RetriedWithSameEventIdAndDelivered()
    {
        var server = await Start();
        await using var receiver = await WebhookReceiver.Start();
        receiver.Respond = n => n switch { 1 => 500, 2 => -1, 3 => 410, _ => 200 };
        try
        {
            using var client = server.Client();
            await CreateEndpoint(client, receiver.Url, "[\"receipt.generated\"]");
            await Api.Post(client, "api/v1/balance/delta", Api.Emit("cust_retry", "1"));

            var requests = await receiver.WaitFor(r => r.Any(x => x.AnsweredStatus == 200), "a 200");

            Assert.Equal(4, requests.Count);
            Assert.Single(requests.Select(r => r.Header("X-Event-ID")).Distinct());
            Assert.Single(requests.Select(r => r.Json.GetProperty("data").GetRawText()).Distinct());
            var delivery = await WaitDelivery(client, "delivered");
            Assert.Equal(4, delivery.GetProperty("attempts").GetInt32());
            var log = delivery.GetProperty("attemptLog").EnumerateArray().ToList();
            Assert.Equal(500, log[0].GetProperty("statusCode").GetInt32());
            Assert.Contains("timed out", log[1].GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.Equal(410, log[2].GetProperty("statusCode").GetInt32());
            Assert.Equal(200, log[3].GetProperty("statusCode").GetInt32());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<JsonElement> WaitDelivery(HttpClient client, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var (_, body) = await Api.Get(client, $"api/v1/balance/webhooks?status={status}");
            var deliveries = body.GetProperty("data").GetProperty("deliveries");
            if (deliveries.GetArrayLength() > 0)
            {
                return deliveries[0];
            }
            Assert.True(DateTime.UtcNow < deadline, $"no {status} delivery within 15 s");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Restart_MidRetry_DeliveryCompletesOnTheSameDataDirectory()
    {
        var server = await Start(Fast with { RetryDelayBase = TimeSpan.FromMilliseconds(100) });
        await using var receiver = await WebhookReceiver.Start();
        receiver.Respond = _ => 503;
        try
        {
            using (var client = server.Client())
            {
                await CreateEndpoint(client, receiver.Url, "[\"delta.verified\"]");
                await Api.Post(client, "api/v1/balance/delta", Api.Emit("cust_restart", "3"));
                await receiver.WaitFor(r => r.Count >= 1, "a first failed attempt");
            }
            await server.StopAsync();
            var before = receiver.Requests.First().Header("X-Event-ID");
            receiver.Respond = _ => 200;
            await server.InitializeAsync();

            var requests = await receiver.WaitFor(r => r.Any(x => x.AnsweredStatus == 200), "delivery after restart");

            Assert.Equal(before, requests.Last().Header("X-Event-ID"));
            using var again = server.Client();
            Assert.Equal("delivered", (await WaitDelivery(again, "delivered")).GetProperty("status").GetString());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task RotateSecret_DuringOverlap_BothSecretsSignEveryDelivery()
    {
        var server = await Start();
        await using var receiver = await WebhookReceiver.Start();
        try
        {
            using var client = server.Client();
            var (id, oldSecret) = await CreateEndpoint(client, receiver.Url);
            var (status, rotated) = await Api.Post(client, $"api/v1/webhooks/endpoints/{id}/rotate-secret", "{}");
            Assert.Equal(200, status);
            var newSecret = rotated.GetProperty("data").GetProperty("secret").GetString()!;
            Assert.NotEqual(oldSecret, newSecret);
            Assert.Equal(202, (await Api.Post(client, $"api/v1/webhooks/endpoints/{id}/test", "{}")).Status);

            var received = (await receiver.WaitFor(r => r.Count >= 1, "test event"))[0];

            Assert.Equal("test", received.Json.GetProperty("event").GetString());
            Assert.Equal(2, received.Header("X-PacSpace-Signature").Split(',').Length);
            Assert.Equal(2, received.Header("webhook-signature").Split(' ').Length);
            Assert.StartsWith("v1=", received.Header("X-PacSpace-Signature"), StringComparison.Ordinal);
            foreach (var secret in new[] { oldSecret, newSecret })
            {
                var verifier = new WebhookVerifier(secret);
                Assert.Equal(WebhookVerificationStatus.Verified, verifier.Verify(received.Headers, received.Body));
                Assert.Equal(WebhookVerificationStatus.Verified, verifier.VerifyPacSpace(
                    received.Header("X-PacSpace-Signature"), received.Header("X-PacSpace-Timestamp"), received.Body));
            }
            // Current secret first, as PacSpace's SDK documents.
            Assert.Equal(received.Header("X-PacSpace-Signature").Split(',')[0], Tallystick.Webhooks.WebhookSignatures.PacSpace(
                newSecret, received.Header("X-PacSpace-Timestamp"), received.Body));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/hook", "WEBHOOK_URL_NOT_ALLOWED")]
    [InlineData("http://localhost:9/hook", "WEBHOOK_URL_NOT_ALLOWED")]
    [InlineData("http://[::1]/hook", "WEBHOOK_URL_NOT_ALLOWED")]
    [InlineData("http://169.254.169.254/latest/meta-data", "WEBHOOK_URL_NOT_ALLOWED")]
    [InlineData("https://10.1.2.3/hook", "WEBHOOK_URL_NOT_ALLOWED")]
    [InlineData("http://100.64.0.1/hook", "WEBHOOK_URL_NOT_ALLOWED")]
    [InlineData("http://0.0.0.0/hook", "WEBHOOK_URL_NOT_ALLOWED")]
    [InlineData("ftp://example.com/hook", "VALIDATION_ERROR")]
    [InlineData("http://user:pw@example.com/hook", "VALIDATION_ERROR")]
    public async Task CreateEndpoint_PrivateTargetWithoutOption_Refused(string url, string code)
    {
        var server = await Start(allowPrivate: false);
        try
        {
            using var client = server.Client();
            var (status, body) = await Api.Post(client, "api/v1/webhooks/endpoints", $"{{\"url\":\"{url}\"}}");

            Assert.Equal(400, status);
            Assert.Equal(code, Api.Code(body));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700::1111", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("100.128.0.1", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::1", false)]
    [InlineData("::", false)]
    [InlineData("fc00::1", false)]
    [InlineData("fd12:3456::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    public void IsPublic_AddressTable(string address, bool expected) =>
        Assert.Equal(expected, WebhookTargets.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public async Task Connect_PrivateTargetAtDeliveryTime_RefusedAndRecorded()
    {
        // Registered while allowed, delivered by a server that refuses private targets: the connect step refuses.
        var server = await Start(allowPrivate: true);
        await using var receiver = await WebhookReceiver.Start();
        try
        {
            using (var client = server.Client())
            {
                await CreateEndpoint(client, receiver.Url);
            }
            await server.StopAsync();
            var strict = new RunningServer { WebhookSchedule = Fast with { AttemptsMin = 1, AttemptsMax = 1 }, AllowPrivateWebhookTargets = false };
            // Same data directory: copy the stopped server's database over the new fixture's directory.
            Directory.CreateDirectory(strict.DataDirectory);
            foreach (var file in Directory.GetFiles(server.DataDirectory).Where(f => Path.GetFileName(f) != "LOCK"))
            {
                File.Copy(file, Path.Combine(strict.DataDirectory, Path.GetFileName(file)));
            }
            await strict.InitializeAsync();
            try
            {
                using var client = strict.Client();
                var (_, list) = await Api.Get(client, "api/v1/webhooks/endpoints");
                var id = list.GetProperty("data").GetProperty("endpoints")[0].GetProperty("id").GetString();
                await Api.Post(client, $"api/v1/webhooks/endpoints/{id}/test", "{}");
                var failed = await WaitDelivery(client, "failed");
                Assert.Contains("non-public", failed.GetProperty("lastError").GetString(), StringComparison.Ordinal);
                Assert.Empty(receiver.Requests);
            }
            finally
            {
                await strict.DisposeAsync();
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Outbox_FailedTransaction_LeavesNoEvent()
    {
        var server = await Start();
        await using var receiver = await WebhookReceiver.Start();
        try
        {
            using var client = server.Client();
            await CreateEndpoint(client, receiver.Url, "[\"receipt.generated\"]");
            var sequencer = server.Services.GetRequiredService<Sequencer>();
            sequencer.FaultBeforeCommit = () => new InvalidOperationException("injected");
            var (status, _) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("cust_atomic", "1", referenceId: "a"));
            sequencer.FaultBeforeCommit = null;

            Assert.Equal(500, status);
            Assert.Equal(0, CountEvents(server, "receipt.generated"));
            Assert.Equal(201, (await Api.Post(client, "api/v1/balance/delta", Api.Emit("cust_atomic", "1", referenceId: "b"))).Status);
            var received = await receiver.WaitFor(r => r.Count >= 1, "receipt.generated");
            Assert.Equal(1, CountEvents(server, "receipt.generated"));
            Assert.Equal("receipt.generated", received[0].Json.GetProperty("event").GetString());
            Assert.Equal(0, received[0].Json.GetProperty("data").GetProperty("sequenceNumber").GetInt64());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static long CountEvents(RunningServer server, string type)
    {
        using var connection = server.Services.GetRequiredService<Database>().Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM webhook_events WHERE type = $t";
        command.Parameters.AddWithValue("$t", type);
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task TenantIsolation_EndpointsEventsAndLogsStayInTheirPlane()
    {
        var server = await Start();
        await using var receiver = await WebhookReceiver.Start();
        try
        {
            using var acme = server.Client();
            using var acmeLive = server.Client(RunningServer.AcmeLive);
            using var globex = server.Client(RunningServer.GlobexTest);
            var (id, _) = await CreateEndpoint(acme, receiver.Url, "[\"receipt.generated\"]");
            await Api.Post(globex, "api/v1/balance/delta", Api.Emit("cust_globex", "1"));
            await Api.Post(acmeLive, "api/v1/balance/delta", Api.Emit("cust_live", "1"));
            await Api.Post(acme, "api/v1/balance/delta", Api.Emit("cust_acme", "1"));

            var received = await receiver.WaitFor(r => r.Count >= 1, "acme's event");
            await Task.Delay(200);

            Assert.Single(receiver.Requests);
            Assert.Equal("cust_acme", received[0].Json.GetProperty("data").GetProperty("customerId").GetString());
            Assert.Equal("WEBHOOK_ENDPOINT_NOT_FOUND", Api.Code((await Api.Get(globex, $"api/v1/webhooks/endpoints/{id}")).Body));
            Assert.Equal("WEBHOOK_ENDPOINT_NOT_FOUND", Api.Code((await Api.Get(acmeLive, $"api/v1/webhooks/endpoints/{id}")).Body));
            Assert.Equal(0, (await Api.Get(globex, "api/v1/webhooks/endpoints")).Body.GetProperty("data").GetProperty("count").GetInt32());
            Assert.Equal(0, (await Api.Get(globex, "api/v1/balance/webhooks")).Body.GetProperty("data")
                .GetProperty("pagination").GetProperty("total").GetInt64());
            var eventId = received[0].Header("X-Event-ID");
            Assert.Equal(404, (await Api.Post(globex, $"api/v1/balance/webhooks/{eventId}/retry", "{}")).Status);
            Assert.Equal(401, (await Api.Get(server.Client(apiKey: null), "api/v1/webhooks/endpoints")).Status);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Endpoints_CrudSecretOnceFiltersAndValidation()
    {
        var server = await Start();
        try
        {
            using var client = server.Client();
            var (id, secret) = await CreateEndpoint(client, "http://127.0.0.1:9/x");
            Assert.Matches("^whsec_[A-Za-z0-9+/]{43}=$", secret);
            var (_, got) = await Api.Get(client, $"api/v1/webhooks/endpoints/{id}");
            Assert.False(got.GetProperty("data").TryGetProperty("secret", out _));
            Assert.Equal(3, got.GetProperty("data").GetProperty("events").GetArrayLength());

            using var patch = new HttpRequestMessage(HttpMethod.Patch, $"api/v1/webhooks/endpoints/{id}")
            {
                Content = Api.Json("""{"events":["checkpoint.verified"],"enabled":false}"""),
            };
            var patched = await Api.Read(await client.SendAsync(patch));
            Assert.False(patched.GetProperty("data").GetProperty("enabled").GetBoolean());
            Assert.Equal("checkpoint.verified", patched.GetProperty("data").GetProperty("events")[0].GetString());

            Assert.Equal("VALIDATION_ERROR", Api.Code((await Api.Post(client, "api/v1/webhooks/endpoints",
                """{"url":"http://127.0.0.1:9/x","events":["nope"]}""")).Body));
            Assert.Equal("MISSING_FIELD", Api.Code((await Api.Post(client, "api/v1/webhooks/endpoints", "{}")).Body));
            Assert.Equal("UNKNOWN_FIELD", Api.Code((await Api.Post(client, "api/v1/webhooks/endpoints",
                """{"url":"http://127.0.0.1:9/x","secret":"mine"}""")).Body));

            var deleted = await client.DeleteAsync($"api/v1/webhooks/endpoints/{id}");
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            Assert.Equal(404, (await Api.Get(client, $"api/v1/webhooks/endpoints/{id}")).Status);
            Assert.Equal(404, (await Api.Post(client, "api/v1/webhooks/endpoints/we_999/rotate-secret", "{}")).Status);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task ContinuouslyFailingEndpoint_IsDisabledWithReason_ManualRetryRedelivers()
    {
        // One attempt per delivery and DisableAfter zero: the first failure disables the endpoint, deterministically
        // (an attempt still in flight across the re-enable below cannot disable it again: WebhookDisableTests). A
        // generous attempt timeout, so a cold first connection is answered (HTTP 500) rather than timed out.
        var server = await Start(Fast with
        {
            AttemptsMin = 1, AttemptsMax = 1, DisableAfter = TimeSpan.Zero, AttemptTimeout = TimeSpan.FromSeconds(10),
        });
        await using var receiver = await WebhookReceiver.Start();
        receiver.Respond = _ => 500;
        try
        {
            using var client = server.Client();
            var (id, _) = await CreateEndpoint(client, receiver.Url, "[\"delta.verified\"]");
            await Api.Post(client, "api/v1/balance/delta", Api.Emit("cust_dead", "1"));
            var first = await receiver.WaitFor(r => r.Count >= 1, "the failed attempt");

            var deadline = DateTime.UtcNow.AddSeconds(10);
            JsonElement endpoint;
            do
            {
                await Task.Delay(20);
                endpoint = (await Api.Get(client, $"api/v1/webhooks/endpoints/{id}")).Body.GetProperty("data");
            }
            while (endpoint.GetProperty("enabled").GetBoolean() && DateTime.UtcNow < deadline);
            Assert.False(endpoint.GetProperty("enabled").GetBoolean());
            Assert.Contains("HTTP 500", endpoint.GetProperty("disabledReason").GetString(), StringComparison.Ordinal);

            receiver.Respond = _ => 200;
            using var enable = new HttpRequestMessage(HttpMethod.Patch, $"api/v1/webhooks/endpoints/{id}")
            {
                Content = Api.Json("""{"enabled":true}"""),
            };
            await client.SendAsync(enable);
            var eventId = first[0].Header("X-Event-ID");
            var (status, retried) = await Api.Post(client, $"api/v1/balance/webhooks/{eventId}/retry", "{}");
            Assert.Equal(202, status);
            Assert.Equal(1, retried.GetProperty("data").GetProperty("deliveries").GetInt32());

            var requests = await receiver.WaitFor(r => r.Any(x => x.AnsweredStatus == 200), "redelivery");
            Assert.Equal(eventId, requests.Last().Header("X-Event-ID"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public void Schedule_Production_RetriesAboutThreeDaysAtLeastTenAttempts()
    {
        var schedule = WebhookSchedule.Default;
        var start = DateTimeOffset.UnixEpoch;
        var now = start;
        var attempts = 1;
        while (schedule.MayRetry(attempts, start, now))
        {
            now += schedule.RetryDelay(attempts, 0.999);
            attempts++;
        }

        Assert.InRange(attempts, 10, schedule.AttemptsMax);
        Assert.InRange(now - start, TimeSpan.FromDays(3), TimeSpan.FromDays(3.6));
        Assert.Equal(TimeSpan.Zero, schedule.RetryDelay(5, 0));
        Assert.Equal(TimeSpan.FromHours(12), schedule.RetryDelay(30, 1 - 1e-12).RoundUp());
    }
}

internal static class TimeSpanRounding
{
    public static TimeSpan RoundUp(this TimeSpan value) => TimeSpan.FromSeconds(Math.Ceiling(value.TotalSeconds));
}
