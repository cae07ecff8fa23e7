using System.Globalization;
using System.Text.Json;

namespace Tallystick.Server.Tests;

// Goal: scoped derive answers exactly the verified deltas of its window, under every rule and error of reference
// §2.4, at UTC month edges, leap days and offsets. Method: a FakeTimeProvider server whose acceptance times are
// chosen by the fixture; expected values are sums written by hand, and random windows are cross-checked against a
// naive reference that sums every row. Gaps are tested here too: the fixture's customer "tail" has two deltas
// that no checkpoint will cover (the fake clock never moves again).
public sealed class ScopeTests(ClockedServer server) : IClassFixture<ClockedServer>
{
    private async Task<JsonElement> Derive(string customer, string query, int expectedStatus = 200)
    {
        using var client = server.Client();
        var (status, body) = await Api.Get(client, $"api/v1/balance/derive/{customer}?{query}");
        Assert.True(expectedStatus == status, $"{query}: {status} {body}");
        return status == 200 ? body.GetProperty("data") : body;
    }

    private static string Balance(JsonElement data) => data.GetProperty("computedBalance").GetRawText();

    [Theory]
    [InlineData("period=2028-01", "1", 1)]
    [InlineData("period=2028-02", "30", 4)]
    [InlineData("period=2028-03", "32", 1)]
    [InlineData("period=2028-12", "64", 1)]
    [InlineData("startDate=2028-02-29&endDate=2028-03-01", "24", 2)]
    [InlineData("timePreset=custom&startDate=2028-01-01&endDate=2028-02-01T00:00:00Z", "1", 1)]
    [InlineData("startDate=2028-01-31T23:59:59.999Z&endDate=2028-02-01T00:00:00.001Z", "3", 2)]
    [InlineData("startDate=2028-02-29T01:00:00%2B01:00&endDate=2028-03-01T01:00:00%2B01:00", "24", 2)]
    [InlineData("startDate=2028-02-28T19:00:00-05:00&endDate=2028-02-29T19:00:00-05:00", "24", 2)]
    [InlineData("timePreset=last_month", "64", 1)]
    [InlineData("timePreset=current_month", "384", 2)]
    [InlineData("period=2027-01", "0", 0)]
    [InlineData("", "511", 9)]
    public async Task Derive_TimeScopes_CountExactlyTheWindow(string query, string balance, long count)
    {
        var data = await Derive("timed", query);

        Assert.Equal(balance, Balance(data));
        Assert.Equal(count, data.GetProperty("deltaCount").GetInt64());
        Assert.Equal(count, data.GetProperty("deltas").GetArrayLength());
        Assert.Equal(balance, data.GetProperty("window").GetProperty("net").GetRawText());
    }

    [Fact]
    public async Task Derive_Period_StatesTheWindowUsed()
    {
        var data = await Derive("timed", "period=2028-02&startingBalance=100.5");

        var window = data.GetProperty("window");
        Assert.Equal("period", window.GetProperty("scope").GetString());
        Assert.Equal("2028-02", window.GetProperty("period").GetString());
        Assert.Equal("2028-02-01T00:00:00.000Z", window.GetProperty("startDate").GetString());
        Assert.Equal("2028-03-01T00:00:00.000Z", window.GetProperty("endDate").GetString());
        Assert.Equal(1, window.GetProperty("fromSequenceNumber").GetInt64());
        Assert.Equal(5, window.GetProperty("toSequenceNumber").GetInt64());
        Assert.Equal("1", window.GetProperty("openingBalance").GetRawText());
        Assert.Equal("130.5", Balance(data));
        Assert.Equal(new long[] { 1, 2, 3, 4 },
            data.GetProperty("deltas").EnumerateArray().Select(r => r.GetProperty("sequenceNumber").GetInt64()));
    }

    [Fact]
    public async Task Derive_NoScope_IsAllTimeAndSaysSo()
    {
        var data = await Derive("timed", "");

        var window = data.GetProperty("window");
        Assert.Equal("all_time", window.GetProperty("scope").GetString());
        Assert.False(window.TryGetProperty("startDate", out _));
        Assert.Equal(9, window.GetProperty("toSequenceNumber").GetInt64());
    }

    [Fact]
    public async Task Derive_LastMonthInJanuary_IsDecemberOfThePreviousYear()
    {
        var data = await Derive("timed", "timePreset=last_month");

        var window = data.GetProperty("window");
        Assert.Equal("2028-12-01T00:00:00.000Z", window.GetProperty("startDate").GetString());
        Assert.Equal("2029-01-01T00:00:00.000Z", window.GetProperty("endDate").GetString());
    }

    [Fact]
    public async Task Derive_DayGranularityInLeapFebruary_Has29BucketsWithTheLeapDay()
    {
        var data = await Derive("timed", "period=2028-02&granularity=day");

        var buckets = data.GetProperty("breakdown").EnumerateArray().ToList();
        Assert.Equal(29, buckets.Count);
        var leap = buckets[28];
        Assert.Equal("2028-02-29T00:00:00.000Z", leap.GetProperty("start").GetString());
        Assert.Equal("2028-03-01T00:00:00.000Z", leap.GetProperty("end").GetString());
        Assert.Equal(2, leap.GetProperty("count").GetInt64());
        Assert.Equal("24", leap.GetProperty("net").GetRawText());
        Assert.Equal("30", leap.GetProperty("endingBalance").GetRawText());
        Assert.Equal("2", buckets[0].GetProperty("net").GetRawText());
        Assert.Equal(4, buckets.Sum(b => b.GetProperty("count").GetInt64()));
    }

    [Fact]
    public async Task Derive_WeekAndMonthGranularity_AlignToMondaysAndMonths()
    {
        var weeks = (await Derive("timed", "startDate=2028-02-21&endDate=2028-03-06&granularity=week"))
            .GetProperty("breakdown").EnumerateArray().ToList();
        Assert.Equal(new[] { "2028-02-21T00:00:00.000Z", "2028-02-28T00:00:00.000Z" },
            weeks.Select(w => w.GetProperty("start").GetString()));
        Assert.Equal(new[] { "0", "60" }, weeks.Select(w => w.GetProperty("net").GetRawText()));

        var months = (await Derive("timed", "startDate=2028-01-01&endDate=2029-01-01&granularity=month"))
            .GetProperty("breakdown").EnumerateArray().ToList();
        Assert.Equal(12, months.Count);
        Assert.Equal("1", months[0].GetProperty("net").GetRawText());
        Assert.Equal("30", months[1].GetProperty("net").GetRawText());
        Assert.Equal("64", months[11].GetProperty("net").GetRawText());
        Assert.Equal("127", months[11].GetProperty("endingBalance").GetRawText());
    }

    [Fact]
    public async Task Derive_AllTimeByDay_BeyondTheBucketLimitIsScopeTooWide()
    {
        var body = await Derive("old", "granularity=day", 400);

        Assert.Equal("SCOPE_TOO_WIDE", Api.Code(body));
        Assert.Contains("400 buckets", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        var months = await Derive("old", "granularity=month");
        Assert.Equal(20, months.GetProperty("breakdown").GetArrayLength());
    }

    [Fact]
    public async Task Derive_StartingCheckpoint_WindowStartsAfterThatRecord()
    {
        var leapRecord = server.TimedRecords[3];
        var byRecord = await Derive("timed", $"startingCheckpoint={leapRecord}&startingCheckpointType=recordId&startingBalance=1000");
        Assert.Equal("1496", Balance(byRecord));
        Assert.Equal(5, byRecord.GetProperty("deltaCount").GetInt64());
        Assert.Equal("checkpoint", byRecord.GetProperty("window").GetProperty("scope").GetString());

        using var client = server.Client();
        var (_, status) = await Api.Get(client, $"api/v1/balance/delta/{leapRecord}");
        var receipt = status.GetProperty("data").GetProperty("receiptId").GetString();
        var byReceipt = await Derive("timed", $"startingCheckpoint={receipt}&startingCheckpointType=proofRoot");
        Assert.Equal("496", Balance(byReceipt));
        var inferred = await Derive("timed", $"startingCheckpoint={leapRecord}");
        Assert.Equal("496", Balance(inferred));
        var oldNames = await Derive("timed", $"startingCheckpoint={receipt}&startingCheckpointType=itemsRoot");
        Assert.Equal("496", Balance(oldNames));
    }

    [Fact]
    public async Task Derive_CheckpointOfAnotherCustomerOrUnknownRoot_IsNotFound()
    {
        var body = await Derive("random", $"startingCheckpoint={server.TimedRecords[0]}", 404);
        Assert.Equal("CHECKPOINT_NOT_FOUND", Api.Code(body));

        var root = "0x" + new string('a', 64);
        var unknown = await Derive("timed", $"startingCheckpoint={root}&startingCheckpointType=proofRoot", 404);
        Assert.Equal("CHECKPOINT_NOT_FOUND", Api.Code(unknown));
        Assert.Contains("period-checkpoint", unknown.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("startingCheckpoint=rec_1&period=2028-01", "INVALID_SCOPE_COMBINATION")]
    [InlineData("startingCheckpoint=rec_1&startDate=2028-01-01&endDate=2028-02-01", "INVALID_SCOPE_COMBINATION")]
    [InlineData("startingCheckpoint=rec_1&timePreset=current_month", "INVALID_SCOPE_COMBINATION")]
    [InlineData("period=2028-01&timePreset=current_month", "INVALID_SCOPE_COMBINATION")]
    [InlineData("period=2028-01&startDate=2028-01-01", "INVALID_SCOPE_COMBINATION")]
    [InlineData("timePreset=current_month&startDate=2028-01-01&endDate=2028-02-01", "INVALID_SCOPE_COMBINATION")]
    [InlineData("timePreset=last_month&endDate=2028-02-01", "INVALID_SCOPE_COMBINATION")]
    [InlineData("timePreset=custom&startDate=2028-01-01", "INVALID_SCOPE_COMBINATION")]
    [InlineData("timePreset=custom", "INVALID_SCOPE_COMBINATION")]
    [InlineData("startDate=2028-01-01", "INVALID_SCOPE_COMBINATION")]
    [InlineData("endDate=2028-01-01", "INVALID_SCOPE_COMBINATION")]
    [InlineData("startingCheckpointType=recordId", "INVALID_SCOPE_COMBINATION")]
    [InlineData("startDate=2028-01-01&endDate=2029-01-01T00:00:00.001Z", "SCOPE_TOO_WIDE")]
    [InlineData("period=2028-13", "INVALID_PERIOD")]
    [InlineData("period=2028-1", "INVALID_PERIOD")]
    [InlineData("period=28-01", "INVALID_PERIOD")]
    [InlineData("timePreset=yesterday", "INVALID_TIME_PRESET")]
    [InlineData("startDate=2028-02-30&endDate=2028-03-01", "INVALID_DATE")]
    [InlineData("startDate=01/02/2028&endDate=2028-03-01", "INVALID_DATE")]
    [InlineData("startDate=2028-03-01&endDate=2028-03-01", "INVALID_DATE_RANGE")]
    [InlineData("startDate=2028-03-02&endDate=2028-03-01", "INVALID_DATE_RANGE")]
    [InlineData("granularity=hour", "INVALID_GRANULARITY")]
    [InlineData("startingBalance=abc", "INVALID_STARTING_BALANCE")]
    [InlineData("startingBalance=0.000000001", "INVALID_STARTING_BALANCE")]
    [InlineData("startingCheckpoint=rec_1&startingCheckpointType=hash", "INVALID_CHECKPOINT_TYPE")]
    [InlineData("startingCheckpoint=rec_x&startingCheckpointType=recordId", "INVALID_CHECKPOINT")]
    [InlineData("startingCheckpoint=0x12&startingCheckpointType=proofRoot", "INVALID_CHECKPOINT")]
    [InlineData("period=2028-01&period=2028-02", "INVALID_QUERY")]
    public async Task Derive_ScopeRuleBroken_Returns400WithItsCode(string query, string code)
    {
        var body = await Derive("timed", query, 400);

        Assert.Equal(code, Api.Code(body));
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetProperty("field").GetString()));
    }

    [Fact]
    public async Task Derive_TwelveMonthWindow_IsTheWidestAllowed()
    {
        var data = await Derive("timed", "startDate=2028-01-01&endDate=2029-01-01");

        Assert.Equal("127", Balance(data));
    }

    [Fact]
    public async Task Limits_ReturnsTheNamedLimits()
    {
        using var client = server.Client();
        var (status, body) = await Api.Get(client, "api/v1/balance/limits");

        Assert.Equal(200, status);
        var data = body.GetProperty("data");
        Assert.Equal(Limits.ScopeMonthsMax, data.GetProperty("maxScopeMonths").GetInt32());
        Assert.Equal(Limits.ScopeLastNDaysMax, data.GetProperty("maxLastNDays").GetInt32());
        Assert.Equal(Limits.ScopeBucketsMax, data.GetProperty("maxBreakdownBuckets").GetInt32());
        Assert.Equal(Limits.CompareRecordsMax, data.GetProperty("maxCompareRecords").GetInt32());
    }

    [Fact]
    public async Task Derive_RandomWindows_AgreeWithNaiveSumOverAllRows()
    {
        var rows = server.RandomDeltas;
        var random = new Random(20280229);
        for (var trial = 0; trial < 40; trial++)
        {
            var start = new DateTimeOffset(2027, 12, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 400 * 24 * 60));
            var end = start.AddMinutes(random.Next(1, 330 * 24 * 60));
            if (trial % 4 == 0)
            {
                end = rows[random.Next(rows.Count)].Time; // exactly on a delta: that delta is excluded
            }
            if (end <= start)
            {
                continue;
            }
            var inWindow = rows.Where(r => r.Time >= start && r.Time < end).ToList();
            var query = $"startDate={Iso(start)}&endDate={Iso(end)}&limit=1000";

            var data = await Derive("random", query);

            Assert.Equal(inWindow.Sum(r => r.Amount), data.GetProperty("computedBalance").GetDecimal());
            Assert.Equal(inWindow.Count, data.GetProperty("deltaCount").GetInt64());
            Assert.Equal(inWindow.Select(r => r.Amount),
                data.GetProperty("deltas").EnumerateArray().Select(d => d.GetProperty("delta").GetDecimal()));
        }
    }

    private static string Iso(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Gaps_UnverifiedTail_IsReportedAfterTheContiguousVerifiedPrefix()
    {
        using var client = server.Client();
        var (status, body) = await Api.Get(client, "api/v1/balance/gaps/tail?fromSequence=0&toSequence=8");

        Assert.Equal(200, status);
        var data = body.GetProperty("data");
        Assert.Equal(2, data.GetProperty("contiguousThrough").GetInt64());
        Assert.Equal(3, data.GetProperty("verifiedCount").GetInt64());
        Assert.Equal(5, data.GetProperty("acceptedCount").GetInt64());
        var gaps = data.GetProperty("gaps").EnumerateArray()
            .Select(g => (g.GetProperty("from").GetInt64(), g.GetProperty("to").GetInt64(), g.GetProperty("reason").GetString()!))
            .ToList();
        Assert.Equal(new[] { (3L, 5L, "unverified"), (5L, 8L, "missing") }, gaps);
        Assert.False(data.GetProperty("truncated").GetBoolean());
        var derive = await Derive("tail", "");
        Assert.Equal(2, derive.GetProperty("pendingCount").GetInt64());
    }

    [Fact]
    public async Task Gaps_RangeWithinTheVerifiedPrefix_IsEmpty_AndLimitTruncates()
    {
        using var client = server.Client();
        var (_, inside) = await Api.Get(client, "api/v1/balance/gaps/tail?fromSequence=1&toSequence=3");
        Assert.Equal(0, inside.GetProperty("data").GetProperty("gaps").GetArrayLength());

        var (_, open) = await Api.Get(client, "api/v1/balance/gaps/tail?fromSequence=4");
        var openGaps = open.GetProperty("data").GetProperty("gaps");
        Assert.Equal(1, openGaps.GetArrayLength());
        Assert.Equal(4, openGaps[0].GetProperty("from").GetInt64());
        Assert.Equal(5, openGaps[0].GetProperty("to").GetInt64());

        var (_, limited) = await Api.Get(client, "api/v1/balance/gaps/tail?toSequence=9&limit=1");
        Assert.Equal(1, limited.GetProperty("data").GetProperty("gaps").GetArrayLength());
        Assert.True(limited.GetProperty("data").GetProperty("truncated").GetBoolean());
    }

    [Theory]
    [InlineData("tail", "fromSequence=5&toSequence=2", 400, "INVALID_QUERY")]
    [InlineData("tail", "limit=0", 400, "INVALID_QUERY")]
    [InlineData("tail", "limit=1001", 400, "INVALID_QUERY")]
    [InlineData("nobody", "", 404, "CUSTOMER_NOT_FOUND")]
    public async Task Gaps_BadRequest_ReturnsItsCode(string customer, string query, int status, string code)
    {
        using var client = server.Client();
        var (actual, body) = await Api.Get(client, $"api/v1/balance/gaps/{customer}?{query}");

        Assert.Equal(status, actual);
        Assert.Equal(code, Api.Code(body));
    }
}
