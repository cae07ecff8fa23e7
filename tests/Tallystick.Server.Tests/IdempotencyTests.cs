namespace Tallystick.Server.Tests;

// Goal: retries never double-record. Idempotency-Key replays the original answer, a reused key with another body
// is a 409, and a repeated (customerId, referenceId) is recorded once — also under concurrent duplicates.
// Method: real HTTP requests, many of them in parallel where a race is the point; the derived count is the oracle.
public sealed class IdempotencyTests(RunningServer server) : IClassFixture<RunningServer>
{
    [Fact]
    public async Task IdempotencyKey_SameBody_ReplaysOriginalResponse()
    {
        using var client = server.Client();
        var body = Api.Emit("idem_a", "-7.25");

        var first = await Api.Post(client, "api/v1/balance/delta", body, "key-a-1");
        var second = await Api.Post(client, "api/v1/balance/delta", body.Replace(",", " , ", StringComparison.Ordinal), "key-a-1");

        Assert.Equal(201, first.Status);
        Assert.Equal(201, second.Status);
        Assert.Equal(first.Body.GetRawText(), second.Body.GetRawText());
        var record = await Api.WaitVerified(client, first.Body.GetProperty("data").GetProperty("recordId").GetString()!);
        var (_, derive) = await Api.Get(client, "api/v1/balance/derive/idem_a");
        Assert.Equal(1, derive.GetProperty("data").GetProperty("deltasCount").GetInt64());
        Assert.Equal("VERIFIED", record.GetProperty("status").GetString());
    }

    [Fact]
    public async Task IdempotencyKey_DifferentBody_409AndNothingWritten()
    {
        using var client = server.Client();
        await Api.Post(client, "api/v1/balance/delta", Api.Emit("idem_b", "1"), "key-b-1");

        var (status, body) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("idem_b", "2"), "key-b-1");

        Assert.Equal(409, status);
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", Api.Code(body));
        var (_, batchConflict) = await Api.Post(client, "api/v1/balance/delta/batch",
            "{\"deltas\":[" + Api.Emit("idem_b", "1") + "]}", "key-b-1");
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", Api.Code(batchConflict));
        var (_, keyBad) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("idem_b", "1"), "has space");
        Assert.Equal("INVALID_IDEMPOTENCY_KEY", Api.Code(keyBad));
    }

    [Fact]
    public async Task IdempotencyKey_KeysArePerTenant()
    {
        using var acme = server.Client(RunningServer.AcmeTest);
        using var globex = server.Client(RunningServer.GlobexTest);

        var a = await Api.Post(acme, "api/v1/balance/delta", Api.Emit("idem_c", "1"), "shared-key");
        var b = await Api.Post(globex, "api/v1/balance/delta", Api.Emit("idem_c", "2"), "shared-key");

        Assert.Equal(201, a.Status);
        Assert.Equal(201, b.Status);
    }

    [Fact]
    public async Task IdempotencyKey_ConcurrentSameKey_RecordsOnceOthersPendingOrReplayed()
    {
        using var client = server.Client();
        var body = Api.Emit("idem_d", "3");

        var answers = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ =>
            Api.Post(client, "api/v1/balance/delta", body, "key-d-race")));

        Assert.All(answers, a => Assert.Contains(a.Status, new[] { 201, 202 }));
        Assert.All(answers.Where(a => a.Status == 202), a => Assert.Equal("IDEMPOTENCY_PENDING", a.Body.GetProperty("code").GetString()));
        var recordIds = answers.Where(a => a.Status == 201)
            .Select(a => a.Body.GetProperty("data").GetProperty("recordId").GetString()).Distinct().ToList();
        Assert.Single(recordIds);
        await Api.WaitVerified(client, recordIds[0]!);
        var (_, derive) = await Api.Get(client, "api/v1/balance/derive/idem_d");
        Assert.Equal(1, derive.GetProperty("data").GetProperty("deltasCount").GetInt64());
    }

    [Fact]
    public async Task ReferenceId_Repeated_AnsweredWithOriginalRecordIdempotentTrue()
    {
        using var client = server.Client();
        var first = await Api.Post(client, "api/v1/balance/delta", Api.Emit("ref_a", "-9", "r", "inv-1"));
        var again = await Api.Post(client, "api/v1/balance/delta", Api.Emit("ref_a", "-9", "r", "inv-1"));

        Assert.Equal(201, first.Status);
        Assert.Equal(200, again.Status);
        var original = first.Body.GetProperty("data");
        var replay = again.Body.GetProperty("data");
        Assert.True(replay.GetProperty("idempotent").GetBoolean());
        Assert.Equal(original.GetProperty("recordId").GetString(), replay.GetProperty("recordId").GetString());
        Assert.Equal(original.GetProperty("itemHash").GetString(), replay.GetProperty("itemHash").GetString());
        Assert.Equal(original.GetProperty("receiptId").GetString(), replay.GetProperty("receiptId").GetString());

        var (conflict, body) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("ref_a", "-10", "r", "inv-1"));
        Assert.Equal(409, conflict);
        Assert.Equal("REFERENCE_ID_CONFLICT", Api.Code(body));
    }

    [Fact]
    public async Task ReferenceId_RepeatedInsideOneBatch_RecordedOnce()
    {
        using var client = server.Client();
        var json = "{\"deltas\":[" + Api.Emit("ref_b", "1", "r", "x") + "," + Api.Emit("ref_b", "1", "r", "x") + "," +
            Api.Emit("ref_b", "2", "r", "x") + "]}";

        var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", json);

        Assert.Equal(201, status);
        var results = body.GetProperty("data").GetProperty("results").EnumerateArray().ToList();
        Assert.False(results[0].TryGetProperty("idempotent", out _));
        Assert.True(results[1].GetProperty("idempotent").GetBoolean());
        Assert.Equal(results[0].GetProperty("itemHash").GetString(), results[1].GetProperty("itemHash").GetString());
        Assert.Equal("REFERENCE_ID_CONFLICT", results[2].GetProperty("error").GetString());
        await Api.WaitVerified(client, results[0].GetProperty("recordId").GetString()!);
        var (_, derive) = await Api.Get(client, "api/v1/balance/derive/ref_b");
        Assert.Equal(1, derive.GetProperty("data").GetProperty("deltasCount").GetInt64());
    }

    [Fact]
    public async Task ReferenceId_ConcurrentDuplicates_ExactlyOneRecorded()
    {
        using var client = server.Client();
        var body = Api.Emit("ref_c", "5", "race", "same-ref");

        var answers = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Api.Post(client, "api/v1/balance/delta", body)));

        Assert.Single(answers, a => a.Status == 201);
        Assert.Equal(31, answers.Count(a => a.Status == 200 && a.Body.GetProperty("data").GetProperty("idempotent").GetBoolean()));
        Assert.Single(answers.Select(a => a.Body.GetProperty("data").GetProperty("recordId").GetString()).Distinct());
        var recordId = answers[0].Body.GetProperty("data").GetProperty("recordId").GetString()!;
        await Api.WaitVerified(client, recordId);
        var (_, derive) = await Api.Get(client, "api/v1/balance/derive/ref_c");
        Assert.Equal("5", derive.GetProperty("data").GetProperty("computedBalance").GetRawText());
    }
}
