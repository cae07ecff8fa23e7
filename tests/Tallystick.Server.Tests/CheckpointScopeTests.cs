namespace Tallystick.Server.Tests;

// Goal: period checkpoints resolve time windows with the same rules and the same numbers as scoped derive
// (UTC months, end-exclusive, leap day), for one customer or every customer active in the window.
// Oracle: derive's scoped window (fromSequenceNumber, toSequenceNumber, openingBalance, net) on the same server,
// and the literal month sums of the fixture's timed deltas.
public sealed class CheckpointScopeTests(ClockedServer server) : IClassFixture<ClockedServer>
{
    [Fact]
    public async Task Checkpoint_Period_CoversTheMonthExactly_LikeScopedDerive()
    {
        using var client = server.Client();

        var (status, body) = await Api.Post(client, "api/v1/balance/checkpoint",
            "{\"customerId\":\"timed\",\"period\":\"2028-02\"}");

        Assert.Equal(201, status);
        var data = body.GetProperty("data");
        // February 2028 (leap): 2 + 4 + 8 + 16, after January's 1; March 1st 00:00:00.000 is outside.
        Assert.Equal(1, data.GetProperty("fromSequence").GetInt64());
        Assert.Equal(5, data.GetProperty("toSequence").GetInt64());
        Assert.Equal("1", data.GetProperty("startingBalance").GetRawText());
        Assert.Equal("31", data.GetProperty("endingBalance").GetRawText());
    }

    [Fact]
    public async Task Checkpoint_PeriodWithoutCustomer_ChecksEveryActiveCustomerAsDeriveDoes()
    {
        using var client = server.Client();

        var (status, body) = await Api.Post(client, "api/v1/balance/checkpoint", "{\"timePreset\":\"custom\"," +
            "\"startDate\":\"2028-02-01T00:00:00Z\",\"endDate\":\"2028-05-01T00:00:00Z\"}");

        Assert.Equal(201, status);
        var checkpoints = body.GetProperty("data").GetProperty("checkpoints").EnumerateArray().ToList();
        Assert.Contains(checkpoints, c => c.GetProperty("customerId").GetString() == "timed");
        Assert.DoesNotContain(checkpoints, c => c.GetProperty("customerId").GetString() is "old" or "tail");
        foreach (var checkpoint in checkpoints)
        {
            var customer = checkpoint.GetProperty("customerId").GetString();
            var (_, derive) = await Api.Get(client, $"api/v1/balance/derive/{customer}?startDate=2028-02-01&endDate=2028-05-01&limit=1");
            var window = derive.GetProperty("data").GetProperty("window");
            Assert.Equal(window.GetProperty("fromSequenceNumber").GetInt64(), checkpoint.GetProperty("fromSequence").GetInt64());
            Assert.Equal(window.GetProperty("toSequenceNumber").GetInt64(), checkpoint.GetProperty("toSequence").GetInt64());
            var opening = decimal.Parse(window.GetProperty("openingBalance").GetRawText(), System.Globalization.CultureInfo.InvariantCulture);
            var net = decimal.Parse(window.GetProperty("net").GetRawText(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(opening, decimal.Parse(checkpoint.GetProperty("startingBalance").GetRawText(), System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(opening + net, decimal.Parse(checkpoint.GetProperty("endingBalance").GetRawText(), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task InvoiceProof_Period_IsThatMonthsCheckpoint()
    {
        using var client = server.Client();

        var (status, body) = await Api.Get(client, "api/v1/balance/invoice-proof/timed?period=2028-02");

        Assert.Equal(200, status);
        var data = body.GetProperty("data");
        Assert.Equal("2028-02", data.GetProperty("period").GetString());
        Assert.Equal(4, data.GetProperty("deltaCount").GetInt64());
        Assert.Equal("1", data.GetProperty("startingBalance").GetRawText());
        Assert.Equal("31", data.GetProperty("finalBalance").GetRawText());
        Assert.Equal(new[] { "2", "4", "8", "16" }, data.GetProperty("deltas").EnumerateArray().Select(d => d.GetProperty("delta").GetRawText()));
        var (_, posted) = await Api.Post(client, "api/v1/balance/checkpoint", "{\"customerId\":\"timed\",\"period\":\"2028-02\"}");
        Assert.Equal(data.GetProperty("proofRoot").GetString(), posted.GetProperty("data").GetProperty("proofRoot").GetString());
        var (bad, badBody) = await Api.Get(client, "api/v1/balance/invoice-proof/timed?period=2028-2");
        Assert.Equal(400, bad);
        Assert.Equal("INVALID_PERIOD", Api.Code(badBody));
    }

    [Theory]
    [InlineData("{\"customerId\":\"timed\",\"period\":\"2028-13\"}", 400, "INVALID_PERIOD")]
    [InlineData("{\"customerId\":\"timed\",\"period\":\"2028-02\",\"fromIndex\":0,\"toIndex\":3}", 400, "INVALID_SCOPE_COMBINATION")]
    [InlineData("{\"customerId\":\"timed\",\"period\":\"2028-02\",\"timePreset\":\"last_month\"}", 400, "INVALID_SCOPE_COMBINATION")]
    [InlineData("{\"customerId\":\"timed\",\"period\":\"2026-02\"}", 400, "EMPTY_WINDOW")]
    [InlineData("{\"customerId\":\"timed\",\"period\":202802}", 400, "VALIDATION_ERROR")]
    public async Task Checkpoint_BadTimeScopes_AreRefusedPrecisely(string json, int status, string code)
    {
        using var client = server.Client();
        var (actual, body) = await Api.Post(client, "api/v1/balance/checkpoint", json);
        Assert.Equal(status, actual);
        Assert.Equal(code, Api.Code(body));
    }
}
