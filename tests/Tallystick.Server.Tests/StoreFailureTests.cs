using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Server.Deltas;

namespace Tallystick.Server.Tests;

// Goal: a transaction that fails (disk full, I/O error, or a bug) records nothing, answers 503 or 500 with the
// error envelope, and leaves the sequencer able to go on from exactly the durable state: no lost or duplicated
// sequence numbers, balances that ignore the failed request, and a log that keeps verifying.
// Method: inject a failure just before the commit of one transaction, then check the answer, derive, readiness
// and that later emits continue the same customer's sequence.
public sealed class StoreFailureTests : IAsyncLifetime
{
    private readonly RunningServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Theory]
    [InlineData("store", 503, "SERVICE_UNAVAILABLE")]
    [InlineData("bug", 500, "INTERNAL_ERROR")]
    public async Task FailedTransaction_RecordsNothingAndTheLedgerContinues(string kind, int expectedStatus, string expectedCode)
    {
        using var client = _server.Client();
        var sequencer = _server.Services.GetRequiredService<Sequencer>();
        var (firstStatus, first) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("fail_c", "10", referenceId: "a"));
        Assert.Equal(201, firstStatus);
        await Api.WaitVerified(client, first.GetProperty("data").GetProperty("recordId").GetString()!);

        var failures = 0;
        sequencer.FaultBeforeCommit = () => Interlocked.Increment(ref failures) == 1
            ? kind == "store" ? new SqliteException("database or disk is full", 13) : new InvalidOperationException("injected bug")
            : null;
        var (status, failed) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("fail_c", "5", referenceId: "b"));

        Assert.Equal(expectedStatus, status);
        Assert.Equal(expectedCode, Api.Code(failed));
        Assert.False(failed.GetProperty("success").GetBoolean());

        // The same request again succeeds, and nothing of the failed attempt shows: sequence 1 is the retry's.
        var (retryStatus, retry) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("fail_c", "5", referenceId: "b"));
        Assert.Equal(201, retryStatus);
        Assert.Equal(1, retry.GetProperty("data").GetProperty("sequenceNumber").GetInt64());
        var (_, third) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("fail_c", "-2.5", referenceId: "c"));
        Assert.Equal(2, third.GetProperty("data").GetProperty("sequenceNumber").GetInt64());
        await Api.WaitVerified(client, third.GetProperty("data").GetProperty("recordId").GetString()!);

        var (_, derive) = await Api.Get(client, "api/v1/balance/derive/fail_c");
        var data = derive.GetProperty("data");
        Assert.Equal("12.5", data.GetProperty("computedBalance").GetRawText());
        Assert.Equal(3, data.GetProperty("deltasCount").GetInt64());
        Assert.Equal(new long[] { 0, 1, 2 }, data.GetProperty("deltas").EnumerateArray().Select(d => d.GetProperty("sequenceNumber").GetInt64()));
        var (readyStatus, _) = await Api.Get(client, "readyz");
        Assert.Equal(200, readyStatus);
        Assert.True(failures >= 2);
    }
}
