using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Server.Deltas;
using Tallystick.Server.Tenants;

namespace Tallystick.Server.Tests;

// Goal: code written for PacSpace's official SDKs works against Tallystick by changing the base URL. Written from
// ../shared/reference/pacspace-api.md (§ cited per test), not from our own docs. Method: raw HttpClient requests shaped
// exactly as the SDKs send them (§2.0: Content-Type on every request, User-Agent pacspace-sdk-python/<v>, X-Api-Key,
// X-Chain-Id 296/295 by key prefix, optional X-Credit-Pool-Id and Idempotency-Key; bodies in Python json.dumps style
// with ", " / ": " separators and \u escapes), and assertions on exactly the fields, types and statuses the SDKs read.
public sealed class WireCompatibilityTests(RunningServer server) : IClassFixture<RunningServer>
{
    private const string SdkUserAgent = "pacspace-sdk-python/0.3.0";
    private static readonly string[] SdkStatuses = ["QUEUED", "PROCESSING", "VERIFIED", "FAILED"];

    [Fact]
    public async Task Emit_SdkHeadersAndPythonJson_201EnvelopeWithTheFieldsTheSdkReads()
    {
        // §2.1: 201 with data {recordId, receiptId, status: "QUEUED", customerId, delta}; itemHash/itemHashes.
        // §8 #6 (201 in the SDK tests vs "202 Accepted" in the docs): 201, the SDK's, as docs/design.md records;
        // §8 #7 (envelope): {success: true, data}, the only one the SDK accepts.
        var answer = await Send(HttpMethod.Post, "api/v1/balance/delta",
            """{"customerId": "compat_emit", "delta": -42.5, "reason": "gpu burst \u00e9", "referenceId": "job_1"}""",
            idempotencyKey: "compat-emit-1", creditPoolId: 7);
        var (status, _, body) = answer;

        Assert.Equal(201, status);
        Assert.Equal("application/json", answer.MediaType);
        Assert.True(body.GetProperty("success").GetBoolean());
        var data = body.GetProperty("data");
        Assert.StartsWith("rec_", data.GetProperty("recordId").GetString(), StringComparison.Ordinal);
        Assert.Matches("^0x[0-9a-f]{64}$", data.GetProperty("receiptId").GetString());
        Assert.Equal("QUEUED", data.GetProperty("status").GetString());
        Assert.Equal("compat_emit", data.GetProperty("customerId").GetString());
        Assert.Equal(JsonValueKind.Number, data.GetProperty("delta").ValueKind);
        Assert.Equal(-42.5m, data.GetProperty("delta").GetDecimal());
        Assert.Equal(data.GetProperty("itemHash").GetString(), data.GetProperty("itemHashes")[0].GetString());
        using var client = server.Client();
        var record = await Api.WaitVerified(client, data.GetProperty("recordId").GetString()!);
        Assert.Equal("gpu burst é", record.GetProperty("deltas")[0].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task IdempotencyKey_InProgressThenDoneThenOtherBody_202Then201ReplayThen409()
    {
        // §2.1 "Idempotency": in progress → 202 with code IDEMPOTENCY_PENDING (+ retryAfterSeconds, message), at the
        // top level or under error (§6.1 item 4); completed and identical → the original response; different → 409.
        const string key = "compat-pending-1";
        var body = """{"customerId": "compat_idem", "delta": 5, "reason": "usage"}""";
        var keys = server.Services.GetRequiredService<IdempotencyKeys>();
        var plane = server.Services.GetRequiredService<TenantDirectory>().FindActiveKey("acmeacme0001")!.Value.Plane;
        Assert.True(keys.TryClaim(plane.Id, key)); // What an earlier attempt still being processed holds.
        Answer pending;
        try
        {
            pending = await Send(HttpMethod.Post, "api/v1/balance/delta", body, idempotencyKey: key);
        }
        finally
        {
            keys.Release(plane.Id, key);
        }
        var first = await Send(HttpMethod.Post, "api/v1/balance/delta", body, idempotencyKey: key);
        var replay = await Send(HttpMethod.Post, "api/v1/balance/delta", body, idempotencyKey: key);
        var (conflictStatus, _, conflict) = await Send(HttpMethod.Post, "api/v1/balance/delta",
            """{"customerId": "compat_idem", "delta": 6, "reason": "usage"}""", idempotencyKey: key);

        Assert.Equal(202, pending.Status);
        Assert.Equal("IDEMPOTENCY_PENDING", pending.Body.GetProperty("code").GetString());
        Assert.Equal("IDEMPOTENCY_PENDING", pending.Body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(1, pending.Body.GetProperty("retryAfterSeconds").GetInt32());
        Assert.Equal(1, pending.Body.GetProperty("error").GetProperty("retryAfterSeconds").GetInt32());
        Assert.Equal(JsonValueKind.String, pending.Body.GetProperty("message").ValueKind);
        Assert.Equal("1", Assert.Single(pending.Headers.GetValues("Retry-After")));
        Assert.Equal(201, first.Status);
        Assert.Equal(201, replay.Status);
        Assert.Equal(first.Text, replay.Text);
        Assert.Equal("true", Assert.Single(replay.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(409, conflictStatus);
        AssertErrorEnvelope(conflict, 409, "IDEMPOTENCY_KEY_REUSED");
    }

    [Fact]
    public async Task Batch_SdkChunk_201WithPerItemStatusAndErrorCodes()
    {
        // §2.2: {totalQueued, totalFailed, results[] {index, customerId, delta, status: "QUEUED"|"FAILED", error?},
        // _efficiency?}; items fail individually without failing the batch (error is a code string).
        var (status, _, body) = await Send(HttpMethod.Post, "api/v1/balance/delta/batch", """
            {"deltas": [{"customerId": "compat_batch", "delta": 1.25, "reason": "usage", "referenceId": "b-0"},
             {"customerId": "compat_batch", "delta": 0, "reason": "usage"},
             {"customerId": "compat_batch_2", "delta": -3, "reason": "usage", "metadata": {"gpu": "a100"}}]}
            """, idempotencyKey: "compat-batch-1");

        Assert.Equal(201, status);
        var data = body.GetProperty("data");
        Assert.Equal(2, data.GetProperty("totalQueued").GetInt32());
        Assert.Equal(1, data.GetProperty("totalFailed").GetInt32());
        var results = data.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal(["QUEUED", "FAILED", "QUEUED"], results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(["compat_batch", "compat_batch", "compat_batch_2"],
            results.Select(r => r.GetProperty("customerId").GetString()));
        Assert.Equal(1.25m, results[0].GetProperty("delta").GetDecimal());
        Assert.Equal("DELTA_MUST_NOT_BE_ZERO", results[1].GetProperty("error").GetString());
        Assert.False(results[0].TryGetProperty("error", out _));
        Assert.Equal(2, data.GetProperty("_efficiency").GetProperty("uniqueCustomers").GetInt32());
    }

    [Fact]
    public async Task StatusNormalisation_EveryStatusTheSdkNormalisesSurvivesIt()
    {
        // §2.1 "Lifecycle": the SDK upper-cases every `status` it receives (anywhere in the answer) and maps values
        // outside QUEUED/PROCESSING/VERIFIED/FAILED to QUEUED. So each status we send must already be one of those,
        // or a VERIFIED-like value would silently read as QUEUED.
        var (_, _, emitted) = await Send(HttpMethod.Post, "api/v1/balance/delta",
            """{"customerId": "compat_status", "delta": 10, "reason": "usage", "referenceId": "s-1"}""");
        var recordId = emitted.GetProperty("data").GetProperty("recordId").GetString()!;
        await WaitVerified(emitted);
        var (_, _, checkpoint) = await Send(HttpMethod.Post, "api/v1/balance/checkpoint",
            """{"customerId": "compat_status"}""");
        var answers = new List<JsonElement> { emitted, checkpoint };
        foreach (var path in new[]
        {
            $"api/v1/balance/delta/{recordId}", "api/v1/balance/derive/compat_status",
            "api/v1/balance/customers/compat_status", "api/v1/balance/receipt/compat_status",
            "api/v1/balance/invoice-proof/compat_status?timePreset=current_month",
            "api/v1/balance/checkpoints?customerId=compat_status",
        })
        {
            var (status, _, body) = await Send(HttpMethod.Get, path, null);
            Assert.True(status == 200, $"{path}: {status} {body}");
            answers.Add(body);
        }

        var statuses = answers.SelectMany(Statuses).ToList();
        Assert.True(statuses.Count >= 8, $"only {statuses.Count} statuses seen");
        Assert.All(statuses, s => Assert.Contains(s, SdkStatuses));
        Assert.Equal("VERIFIED", answers[2].GetProperty("data").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Errors_EnvelopeTheSdkParses_400_401_404_409()
    {
        // §6.1: {"success": false, "statusCode", "error": {"code", "message", …}, "message"} satisfies the docs and
        // the SDK parser (nested error first, then flat code/message). §6.2: 400 codes pass through (scope codes
        // get their own SDK errors), 401 INVALID_API_KEY, 404 CUSTOMER_NOT_FOUND.
        await Send(HttpMethod.Post, "api/v1/balance/delta",
            """{"customerId": "compat_err", "delta": 1, "reason": "usage", "referenceId": "r-1"}""");
        var (zero, _, zeroBody) = await Send(HttpMethod.Post, "api/v1/balance/delta",
            """{"customerId": "compat_err", "delta": 0, "reason": "usage"}""");
        var (scope, _, scopeBody) = await Send(HttpMethod.Get,
            "api/v1/balance/derive/compat_err?startingCheckpoint=rec_1&period=2026-01", null);
        var (noKey, _, noKeyBody) = await Send(HttpMethod.Get, "api/v1/balance/derive/compat_err", null, apiKey: null);
        var (badKey, _, badKeyBody) = await Send(HttpMethod.Get, "api/v1/balance/derive/compat_err", null,
            apiKey: "pk_test_acmeacme0001.not-the-secret-000000000");
        var (missing, _, missingBody) = await Send(HttpMethod.Get, "api/v1/balance/customers/compat_nobody", null);
        var (conflict, _, conflictBody) = await Send(HttpMethod.Post, "api/v1/balance/delta",
            """{"customerId": "compat_err", "delta": 2, "reason": "usage", "referenceId": "r-1"}""");

        Assert.Equal(400, zero);
        AssertErrorEnvelope(zeroBody, 400, "DELTA_MUST_NOT_BE_ZERO");
        Assert.Equal("delta", zeroBody.GetProperty("error").GetProperty("field").GetString());
        Assert.Equal(400, scope);
        AssertErrorEnvelope(scopeBody, 400, "INVALID_SCOPE_COMBINATION");
        Assert.Equal(401, noKey);
        AssertErrorEnvelope(noKeyBody, 401, "INVALID_API_KEY");
        Assert.Equal(401, badKey);
        AssertErrorEnvelope(badKeyBody, 401, "INVALID_API_KEY");
        Assert.Equal(404, missing);
        AssertErrorEnvelope(missingBody, 404, "CUSTOMER_NOT_FOUND");
        Assert.Equal(409, conflict);
        AssertErrorEnvelope(conflictBody, 409, "REFERENCE_ID_CONFLICT");
    }

    [Fact]
    public async Task ServiceUnavailable_503WithRetryAfterHeaderAndBody()
    {
        // §2.0 retries: 503 is retried after `Retry-After` (integer seconds, parsed with int()), else the body's
        // retryAfterSeconds (§6.2). Tallystick has no rate or cadence limits, so it never answers 429 (§5.6): 503 is
        // its only retryable refusal. A failing store commit is the one 503 a test can cause on demand; its own
        // server, so that no other test's commit takes the injected fault.
        var own = new RunningServer();
        await own.InitializeAsync();
        try
        {
            var (_, _, first) = await Send(HttpMethod.Post, "api/v1/balance/delta",
                """{"customerId": "compat_503", "delta": 1, "reason": "usage"}""", at: own);
            await WaitVerified(first, own);
            var failures = 0;
            own.Services.GetRequiredService<Sequencer>().FaultBeforeCommit = () =>
                Interlocked.Increment(ref failures) == 1 ? new SqliteException("database or disk is full", 13) : null;

            var (status, headers, body) = await Send(HttpMethod.Post, "api/v1/balance/delta",
                """{"customerId": "compat_503", "delta": 2, "reason": "usage"}""", at: own);
            var (retried, _, _) = await Send(HttpMethod.Post, "api/v1/balance/delta",
                """{"customerId": "compat_503", "delta": 2, "reason": "usage"}""", at: own);

            Assert.Equal(503, status);
            AssertErrorEnvelope(body, 503, "SERVICE_UNAVAILABLE");
            Assert.Equal("1", Assert.Single(headers.GetValues("Retry-After"))); // Integer seconds, as int() parses.
            Assert.Equal(1, body.GetProperty("error").GetProperty("retryAfterSeconds").GetInt32());
            Assert.Equal(201, retried); // What the SDK's retry then gets.
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    [Fact]
    public async Task ChainIdAndCreditPoolHeaders_IgnoredTheKeySelectsTheEnvironment()
    {
        // §2.0: the SDK always sends X-Chain-Id (296 test, 295 live, or an override) and may send X-Credit-Pool-Id
        // (§8 #24: a contract or environment routing override — either way nothing to route on a self-hosted server);
        // §0: since SDK 0.3.0 the key's environment routes the request. A self-hosted server has no chain or
        // contracts, so the headers must change nothing — neither refuse nor reroute.
        var (_, _, emitted) = await Send(HttpMethod.Post, "api/v1/balance/delta",
            """{"customerId": "compat_chain", "delta": 3, "reason": "usage", "referenceId": "c-1"}""");
        await WaitVerified(emitted); // Then nothing changes between the requests compared below.
        var path = "api/v1/balance/customers/compat_chain";

        var (_, _, usual) = await Send(HttpMethod.Get, path, null);
        var (_, _, otherChain) = await Send(HttpMethod.Get, path, null, chainId: "295", creditPoolId: 42);
        var (_, _, noChain) = await Send(HttpMethod.Get, path, null, chainId: null);
        var (live, _, liveBody) = await Send(HttpMethod.Get, path, null, apiKey: RunningServer.AcmeLive,
            chainId: "296");

        Assert.Equal(usual.GetRawText(), otherChain.GetRawText());
        Assert.Equal(usual.GetRawText(), noChain.GetRawText());
        Assert.Equal(3m, usual.GetProperty("data").GetProperty("computedBalance").GetDecimal());
        Assert.Equal(404, live); // The live key's plane, whatever the chain header says.
        AssertErrorEnvelope(liveBody, 404, "CUSTOMER_NOT_FOUND");
    }

    [Fact]
    public async Task DeriveCompareCheckpointReceipt_SdkBodies_FieldsAndTypesTheSdksRead()
    {
        // §2.4 derive: computedBalance, deltasCount and deltaCount (§8 #1: both names are sent),
        // latestReceiptId, deltas[]. §2.6 compare: the SDK always sends startingBalance (0); 201 with matchesYours,
        // matchesTheirs (bool) and neutralBalance. §2.7 checkpoint: 201 {checkpointId "chk_…", status, proofRoot,
        // merkleRoot} (§8 #5: both names); the same resolved scope again is idempotent. §2.9: unscoped → /receipt, scoped →
        // /invoice-proof, with proofRoot, verifyUrl, verificationApiUrl, verificationExplorerUrl (opaque strings).
        var (_, _, emitted) = await Send(HttpMethod.Post, "api/v1/balance/delta",
            """{"customerId": "compat_flow", "delta": 100, "reason": "top-up"}""");
        await WaitVerified(emitted);

        var (deriveStatus, _, derive) = await Send(HttpMethod.Get, "api/v1/balance/derive/compat_flow", null);
        var (compareStatus, _, compare) = await Send(HttpMethod.Post, "api/v1/balance/compare",
            """{"customerId": "compat_flow", "yourBalance": 100, "theirBalance": 90.5, "startingBalance": 0}""");
        var (checkpointStatus, _, checkpoint) = await Send(HttpMethod.Post, "api/v1/balance/checkpoint",
            """{"customerId": "compat_flow"}""", idempotencyKey: "compat-chk-1");
        var (againStatus, _, again) = await Send(HttpMethod.Post, "api/v1/balance/checkpoint",
            """{"customerId": "compat_flow"}""");
        var (receiptStatus, _, receipt) = await Send(HttpMethod.Get, "api/v1/balance/receipt/compat_flow", null);
        var month = DateTime.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var (invoiceStatus, _, invoice) = await Send(HttpMethod.Get,
            "api/v1/balance/invoice-proof/compat_flow?period=" + month, null);

        Assert.Equal(200, deriveStatus);
        var d = derive.GetProperty("data");
        Assert.Equal(100m, d.GetProperty("computedBalance").GetDecimal());
        Assert.Equal(1, d.GetProperty("deltasCount").GetInt64());
        Assert.Equal(1, d.GetProperty("deltaCount").GetInt64());
        Assert.Equal(emitted.GetProperty("data").GetProperty("receiptId").GetString(),
            d.GetProperty("latestReceiptId").GetString());
        Assert.Equal(1, d.GetProperty("deltas").GetArrayLength());
        Assert.Equal(201, compareStatus);
        var c = compare.GetProperty("data");
        Assert.True(c.GetProperty("matchesYours").GetBoolean());
        Assert.False(c.GetProperty("matchesTheirs").GetBoolean());
        Assert.Equal(100m, c.GetProperty("neutralBalance").GetDecimal());
        Assert.Equal(201, checkpointStatus);
        var k = checkpoint.GetProperty("data");
        Assert.StartsWith("chk_", k.GetProperty("checkpointId").GetString(), StringComparison.Ordinal);
        Assert.Contains(k.GetProperty("status").GetString(), SdkStatuses);
        Assert.Equal(k.GetProperty("proofRoot").GetString(), k.GetProperty("merkleRoot").GetString());
        Assert.Equal(200, againStatus);
        Assert.Equal(k.GetProperty("checkpointId").GetString(),
            again.GetProperty("data").GetProperty("checkpointId").GetString());
        Assert.True(again.GetProperty("data").GetProperty("idempotent").GetBoolean());
        foreach (var (status, answer) in new[] { (receiptStatus, receipt), (invoiceStatus, invoice) })
        {
            Assert.Equal(200, status);
            var r = answer.GetProperty("data");
            Assert.Equal("compat_flow", r.GetProperty("customerId").GetString());
            Assert.Equal(k.GetProperty("proofRoot").GetString(), r.GetProperty("proofRoot").GetString());
            Assert.EndsWith("/verify/" + r.GetProperty("proofRoot").GetString(), r.GetProperty("verifyUrl").GetString(),
                StringComparison.Ordinal);
            Assert.EndsWith("/api/v1/verify/" + r.GetProperty("proofRoot").GetString(),
                r.GetProperty("verificationApiUrl").GetString(), StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.String, r.GetProperty("verificationExplorerUrl").ValueKind);
            Assert.False(r.TryGetProperty("accessHint", out _)); // The SDK normalises it to None when absent.
        }
        Assert.Equal("all_time", receipt.GetProperty("data").GetProperty("period").GetString());
        Assert.Equal(month, invoice.GetProperty("data").GetProperty("period").GetString());
    }

    [Fact]
    public async Task CustomersAndPublicVerify_ShapesTheSdkReads()
    {
        // §2.10: list {customers[] {customerId, totalDeltas, …}, pagination {total, page, limit, totalPages}};
        // detail {customerId, customerReference "0x"+40 hex, totalDeltas, computedBalance, recentActivity {items[],
        // pagination}}.
        // §2.14: public verify needs no key (the SDK's get_public sends none) and returns {verified, proofRoot, …}.
        var (_, _, emitted) = await Send(HttpMethod.Post, "api/v1/balance/delta",
            """{"customerId": "compat_cust", "delta": -7, "reason": "usage", "referenceId": "cu-1"}""");
        var root = emitted.GetProperty("data").GetProperty("receiptId").GetString()!;
        await WaitVerified(emitted);

        var (_, _, list) = await Send(HttpMethod.Get, "api/v1/balance/customers?search=compat_cust&limit=25&page=1",
            null);
        var (_, _, detail) = await Send(HttpMethod.Get,
            "api/v1/balance/customers/compat_cust?deltaPage=1&deltaLimit=20", null);
        var (verifyStatus, _, verify) = await Send(HttpMethod.Get, "api/v1/verify/" + root, null, apiKey: null);
        var (unknownStatus, _, unknown) = await Send(HttpMethod.Get, "api/v1/verify/0x" + new string('0', 64), null,
            apiKey: null);

        var customer = Assert.Single(list.GetProperty("data").GetProperty("customers").EnumerateArray());
        Assert.Equal("compat_cust", customer.GetProperty("customerId").GetString());
        Assert.Equal(1, customer.GetProperty("totalDeltas").GetInt64());
        var pagination = list.GetProperty("data").GetProperty("pagination");
        Assert.Equal((1L, 1, 25, 1L), (pagination.GetProperty("total").GetInt64(),
            pagination.GetProperty("page").GetInt32(), pagination.GetProperty("limit").GetInt32(),
            pagination.GetProperty("totalPages").GetInt64()));
        var data = detail.GetProperty("data");
        Assert.Matches("^0x[0-9a-f]{40}$", data.GetProperty("customerReference").GetString());
        Assert.Equal(-7m, data.GetProperty("computedBalance").GetDecimal());
        var item = Assert.Single(data.GetProperty("recentActivity").GetProperty("items").EnumerateArray());
        Assert.Equal("cu-1", item.GetProperty("referenceId").GetString());
        Assert.Equal(1, data.GetProperty("recentActivity").GetProperty("pagination").GetProperty("total").GetInt64());
        Assert.Equal(200, verifyStatus);
        Assert.True(verify.GetProperty("data").GetProperty("verified").GetBoolean());
        Assert.Equal(root, verify.GetProperty("data").GetProperty("proofRoot").GetString());
        Assert.Equal(404, unknownStatus);
        Assert.False(unknown.GetProperty("verified").GetBoolean());
    }

    [Fact]
    public async Task WebhookDeliveries_SdkListAndRetry_UpperCaseFilterAndPostEmptyObject()
    {
        // §2.13: GET /webhooks?status=&limit=&offset= and POST /webhooks/{eventId}/retry with body {}. The SDK
        // normalises `status` in the answer (§2.1), so callers filter with what they saw: FAILED, not failed.
        await using var receiver = await WebhookReceiver.Start();
        var (_, _, endpoint) = await Send(HttpMethod.Post, "api/v1/webhooks/endpoints",
            $$"""{"url": "{{receiver.Url}}", "description": "compat"}""", apiKey: RunningServer.GlobexTest);
        var endpointId = endpoint.GetProperty("data").GetProperty("id").GetString()!;
        var (_, _, test) = await Send(HttpMethod.Post, $"api/v1/webhooks/endpoints/{endpointId}/test", "{}",
            apiKey: RunningServer.GlobexTest);
        var eventId = test.GetProperty("data").GetProperty("eventId").GetString()!;
        await receiver.WaitFor(r => r.Count >= 1, "the test event");

        var delivered = default(JsonElement);
        for (var deadline = DateTime.UtcNow.AddSeconds(15); delivered.ValueKind == JsonValueKind.Undefined;)
        {
            Assert.True(DateTime.UtcNow < deadline, "the test event is not logged as delivered within 15 s");
            await Task.Delay(10);
            var (status, _, page) = await Send(HttpMethod.Get,
                "api/v1/balance/webhooks?status=DELIVERED&limit=10&offset=0", null, apiKey: RunningServer.GlobexTest);
            Assert.Equal(200, status);
            delivered = page.GetProperty("data").GetProperty("deliveries").EnumerateArray()
                .FirstOrDefault(d => d.GetProperty("eventId").GetString() == eventId);
        }
        var (failedStatus, _, failed) = await Send(HttpMethod.Get, "api/v1/balance/webhooks?status=FAILED", null,
            apiKey: RunningServer.GlobexTest);
        var (retryStatus, _, retry) = await Send(HttpMethod.Post, $"api/v1/balance/webhooks/{eventId}/retry", "{}",
            apiKey: RunningServer.GlobexTest);

        Assert.Equal("delivered", delivered.GetProperty("status").GetString());
        Assert.Equal(200, delivered.GetProperty("lastStatusCode").GetInt32());
        Assert.Equal(JsonValueKind.String, delivered.GetProperty("deliveredAt").ValueKind); // Survives normalisation.
        Assert.Equal(200, failedStatus);
        Assert.Equal(0, failed.GetProperty("data").GetProperty("pagination").GetProperty("total").GetInt64());
        Assert.Equal(202, retryStatus);
        Assert.Equal(eventId, retry.GetProperty("data").GetProperty("eventId").GetString());
        Assert.Equal(1, retry.GetProperty("data").GetProperty("deliveries").GetInt32());
        await receiver.WaitFor(r => r.Count(x => x.Header("X-Event-ID") == eventId) >= 2, "the redelivery");
    }

    /// <summary>The §6.1 error envelope, as the SDK parser reads it.</summary>
    private static void AssertErrorEnvelope(JsonElement body, int status, string code)
    {
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.Equal(status, body.GetProperty("statusCode").GetInt32());
        var error = body.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(error.GetProperty("message").GetString(), body.GetProperty("message").GetString());
    }

    /// <summary>Every value of a member named <c>status</c>, at any depth (what the SDK's normaliser visits).</summary>
    private static IEnumerable<string> Statuses(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p =>
            p.Name == "status" && p.Value.ValueKind == JsonValueKind.String
                ? [p.Value.GetString()!]
                : Statuses(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Statuses),
        _ => [],
    };

    private async Task WaitVerified(JsonElement emitted, RunningServer? at = null)
    {
        using var client = (at ?? server).Client();
        await Api.WaitVerified(client, emitted.GetProperty("data").GetProperty("recordId").GetString()!);
    }

    /// <summary>
    /// One request exactly as the Python SDK's HttpClient builds it (§2.0): Content-Type application/json on every
    /// request (on a GET too, with no body), its User-Agent, X-Api-Key when authenticated, X-Chain-Id from the key
    /// prefix unless overridden or removed, X-Credit-Pool-Id and Idempotency-Key when given.
    /// </summary>
    private async Task<Answer> Send(HttpMethod method, string path, string? json, string? idempotencyKey = null,
        int? creditPoolId = null, string? apiKey = RunningServer.AcmeTest, string? chainId = DefaultChainId,
        RunningServer? at = null)
    {
        using var http = new HttpClient { BaseAddress = (at ?? server).BaseAddress };
        using var request = new HttpRequestMessage(method, path)
        {
            Content = new ByteArrayContent(json is null ? [] : Encoding.UTF8.GetBytes(json)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("User-Agent", SdkUserAgent);
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }
        if (chainId == DefaultChainId)
        {
            chainId = apiKey?.StartsWith("pk_live_", StringComparison.Ordinal) == true ? "295" : "296";
        }
        if (chainId is not null)
        {
            request.Headers.Add("X-Chain-Id", chainId);
        }
        if (creditPoolId is { } pool)
        {
            request.Headers.Add("X-Credit-Pool-Id", pool.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        using var response = await http.SendAsync(request);
        return new Answer((int)response.StatusCode, response.Headers, response.Content.Headers.ContentType?.MediaType,
            await response.Content.ReadAsStringAsync());
    }

    private const string DefaultChainId = "from the key";

    /// <summary>An answer: status, headers, media type and the body as text and JSON.</summary>
    private sealed record Answer(int Status, HttpResponseHeaders Headers, string? MediaType, string Text)
    {
        public JsonElement Body => Text.Length == 0 ? default : JsonDocument.Parse(Text).RootElement.Clone();

        public void Deconstruct(out int status, out HttpResponseHeaders headers, out JsonElement body) =>
            (status, headers, body) = (Status, Headers, Body);
    }
}
