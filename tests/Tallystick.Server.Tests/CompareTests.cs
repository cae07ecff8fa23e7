using System.Globalization;
using System.Text;
using System.Text.Json;
using Tallystick.Merkle;

namespace Tallystick.Server.Tests;

// Goal: compare names exactly the departures of each party's view from the verified record, and the earliest one.
// Method: seeded two-party simulations — 200 ledger deltas, then each view drops, duplicates, alters or adds k
// random records — whose expected findings are known by construction; plus balance-only compares with tolerance,
// the per-window roots recomputed from the item hashes, and the request errors.
public sealed class CompareTests(RunningServer server) : IClassFixture<RunningServer>
{
    private sealed record Row(string ReferenceId, decimal Amount, string? Time = null);

    private static async Task<List<Row>> Ledger(HttpClient client, string customer, int count, Random random)
    {
        var rows = Enumerable.Range(0, count)
            .Select(i => new Row($"{customer}-ref-{i}", (random.Next(1, 1_000_000) * (random.Next(2) == 0 ? -1 : 1)) / 100m))
            .ToList();
        string? last = null;
        foreach (var chunk in rows.Chunk(100))
        {
            var items = chunk.Select(r => Api.Emit(customer, r.Amount.ToString(CultureInfo.InvariantCulture), "usage",
                r.ReferenceId));
            var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", "{\"deltas\":[" + string.Join(",", items) + "]}");
            Assert.Equal(201, status);
            last = body.GetProperty("data").GetProperty("results")[0].GetProperty("recordId").GetString();
        }
        await Api.WaitVerified(client, last!);
        return rows;
    }

    private static string RecordsJson(IEnumerable<Row> rows) => "[" + string.Join(",", rows.Select(r =>
        $"{{\"referenceId\":\"{r.ReferenceId}\",\"amount\":{r.Amount.ToString(CultureInfo.InvariantCulture)}" +
        (r.Time is null ? "" : $",\"time\":\"{r.Time}\"") + "}")) + "]";

    private static async Task<JsonElement> Compare(HttpClient client, string json, int expected = 201)
    {
        var (status, body) = await Api.Post(client, "api/v1/balance/compare", json);
        Assert.True(status == expected, $"{status}: {body}");
        return status == 201 ? body.GetProperty("data") : body;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Compare_SeededTwoPartyViews_NameExactlyTheInjectedDiscrepancies(int seed)
    {
        using var client = server.Client();
        var random = new Random(seed);
        var customer = $"sim_{seed}";
        var ledger = await Ledger(client, customer, 200, random);
        var indexes = Enumerable.Range(0, 200).OrderBy(_ => random.Next()).ToList();
        int Take(int n, out List<int> taken)
        {
            taken = indexes.Take(n).ToList();
            indexes.RemoveRange(0, n);
            return n;
        }
        Take(random.Next(1, 5), out var dropped);
        Take(random.Next(1, 5), out var duplicated);
        Take(random.Next(1, 5), out var altered);
        Take(random.Next(0, 3), out var alteredOnYours);
        var added = Enumerable.Range(0, random.Next(1, 4)).Select(i => new Row($"{customer}-extra-{i}", 7)).ToList();

        var theirs = new List<Row>();
        for (var i = 0; i < 200; i++)
        {
            if (dropped.Contains(i))
            {
                continue;
            }
            var row = altered.Contains(i) ? ledger[i] with { Amount = ledger[i].Amount + 0.01m } : ledger[i];
            theirs.Add(row);
            if (duplicated.Contains(i))
            {
                theirs.Add(row);
            }
        }
        theirs.AddRange(added);
        var yours = ledger.Select((r, i) => alteredOnYours.Contains(i) ? r with { Amount = -r.Amount } : r)
            .OrderBy(_ => random.Next()).ToList(); // order of a view does not matter
        theirs = theirs.OrderBy(_ => random.Next()).ToList();

        var data = await Compare(client, $"{{\"customerId\":\"{customer}\",\"yourRecords\":{RecordsJson(yours)}," +
            $"\"theirRecords\":{RecordsJson(theirs)}}}");

        var expected = dropped.Select(i => ("missing_from_theirs", "theirs", ledger[i].ReferenceId))
            .Concat(duplicated.Select(i => ("duplicate", "theirs", ledger[i].ReferenceId)))
            .Concat(altered.Select(i => ("amount_mismatch", "theirs", ledger[i].ReferenceId)))
            .Concat(alteredOnYours.Select(i => ("amount_mismatch", "yours", ledger[i].ReferenceId)))
            .Concat(added.Select(r => ("missing_from_ledger", "theirs", r.ReferenceId)))
            .Order().ToList();
        var found = data.GetProperty("discrepancies").EnumerateArray()
            .Select(d => (d.GetProperty("kind").GetString()!, d.GetProperty("party").GetString()!,
                d.GetProperty("referenceId").GetString()!))
            .Order().ToList();
        Assert.Equal(expected, found);
        var firstIndex = dropped.Concat(duplicated).Concat(altered).Concat(alteredOnYours).Min();
        var first = data.GetProperty("firstDivergence");
        Assert.Equal(firstIndex, first.GetProperty("sequenceNumber").GetInt64());
        Assert.Equal(ledger[firstIndex].ReferenceId, first.GetProperty("referenceId").GetString());
        Assert.Equal(200 - dropped.Count - duplicated.Count - altered.Count - alteredOnYours.Count,
            data.GetProperty("confirmed").GetInt64());
        Assert.False(data.GetProperty("match").GetBoolean());
        Assert.Equal(200, data.GetProperty("records").GetProperty("ledger").GetInt64());
        var sequences = data.GetProperty("discrepancies").EnumerateArray()
            .Where(d => d.TryGetProperty("sequenceNumber", out _)).Select(d => d.GetProperty("sequenceNumber").GetInt64())
            .ToList();
        Assert.Equal(sequences.Order(), sequences); // listed in ledger order
        var altered0 = data.GetProperty("discrepancies").EnumerateArray()
            .First(d => d.GetProperty("kind").GetString() == "amount_mismatch" && d.GetProperty("party").GetString() == "theirs");
        var index = ledger.FindIndex(r => r.ReferenceId == altered0.GetProperty("referenceId").GetString());
        Assert.Equal(ledger[index].Amount, altered0.GetProperty("ledgerAmount").GetDecimal());
        Assert.Equal(ledger[index].Amount + 0.01m, altered0.GetProperty("theirAmount").GetDecimal());
    }

    [Fact]
    public async Task Compare_IdenticalViews_MatchWithEveryRecordConfirmed()
    {
        using var client = server.Client();
        var ledger = await Ledger(client, "same", 150, new Random(11));
        var sum = ledger.Sum(r => r.Amount).ToString(CultureInfo.InvariantCulture);

        var data = await Compare(client, $"{{\"customerId\":\"same\",\"yourBalance\":{sum},\"theirBalance\":{sum}," +
            $"\"startingBalance\":0,\"yourRecords\":{RecordsJson(ledger)},\"theirRecords\":{RecordsJson(ledger)}}}");

        Assert.True(data.GetProperty("match").GetBoolean());
        Assert.Equal(150, data.GetProperty("confirmed").GetInt64());
        Assert.Equal(0, data.GetProperty("discrepancies").GetArrayLength());
        Assert.False(data.TryGetProperty("firstDivergence", out _));
        Assert.Equal(sum, data.GetProperty("neutralBalance").GetRawText());
    }

    [Fact]
    public async Task Compare_RecordMissingFromLedgerWithEarlyTime_IsTheFirstDivergence()
    {
        using var client = server.Client();
        var ledger = await Ledger(client, "early", 20, new Random(5));
        var view = ledger.Take(10).Append(new Row("early-ghost", 3, "2000-01-01T00:00:00Z")).Concat(ledger.Skip(10))
            .Select((r, i) => i == 15 ? r with { Amount = r.Amount + 1 } : r).ToList();

        var data = await Compare(client, $"{{\"customerId\":\"early\",\"yourRecords\":{RecordsJson(view)}}}");

        var first = data.GetProperty("firstDivergence");
        Assert.Equal("missing_from_ledger", first.GetProperty("kind").GetString());
        Assert.Equal("early-ghost", first.GetProperty("referenceId").GetString());
        Assert.Equal(0, first.GetProperty("sequenceNumber").GetInt64());
        Assert.Equal("2000-01-01T00:00:00.000Z", first.GetProperty("time").GetString());
        Assert.Equal("missing_from_ledger", data.GetProperty("discrepancies")[0].GetProperty("kind").GetString());
        Assert.Equal(19, data.GetProperty("confirmed").GetInt64());
    }

    [Fact]
    public async Task Compare_BalancesOnly_ReportsWhatMatchesTheRecordWithTolerance()
    {
        using var client = server.Client();
        var ledger = await Ledger(client, "bal", 10, new Random(3));
        var neutral = ledger.Sum(r => r.Amount) + 100;
        string Text(decimal d) => d.ToString(CultureInfo.InvariantCulture);

        var data = await Compare(client, $"{{\"customerId\":\"bal\",\"yourBalance\":{Text(neutral)}," +
            $"\"counterpartyBalance\":{Text(neutral + 0.5m)},\"startingBalance\":100," +
            "\"tolerance\":{\"absolute\":0.5}}");

        Assert.False(data.GetProperty("match").GetBoolean());
        Assert.True(data.GetProperty("matchesYours").GetBoolean());
        Assert.False(data.GetProperty("matchesTheirs").GetBoolean());
        Assert.Equal(neutral, data.GetProperty("neutralBalance").GetDecimal());
        Assert.Equal("0.5", data.GetProperty("theirDifference").GetRawText());
        Assert.Equal("0", data.GetProperty("yourDifference").GetRawText());
        Assert.True(data.GetProperty("withinTolerance").GetBoolean());
        var finding = Assert.Single(data.GetProperty("discrepancies").EnumerateArray());
        Assert.Equal("balance_differs", finding.GetProperty("kind").GetString());
        Assert.Equal("theirs", finding.GetProperty("party").GetString());
        Assert.DoesNotContain("wrong", data.GetProperty("message").GetString()!, StringComparison.OrdinalIgnoreCase);

        var strict = await Compare(client, $"{{\"customerId\":\"bal\",\"yourBalance\":{Text(neutral)}," +
            $"\"theirBalance\":{Text(neutral + 0.5m)},\"startingBalance\":100,\"tolerance\":{{\"relative\":0.000001}}}}");
        Assert.False(strict.GetProperty("withinTolerance").GetBoolean());
    }

    [Theory]
    [InlineData("{\"yourBalance\":1}", 400, "MISSING_FIELD")]
    [InlineData("{\"customerId\":\"bal\"}", 400, "MISSING_FIELD")]
    [InlineData("{\"customerId\":\"bal\",\"yourBalance\":1,\"extra\":1}", 400, "INVALID_BODY")]
    [InlineData("{\"customerId\":\"bal\",\"yourBalance\":\"1\"}", 400, "INVALID_BODY")]
    [InlineData("{\"customerId\":\"bal\",\"yourBalance\":1,", 400, "INVALID_BODY")]
    [InlineData("{\"customerId\":\"bal\",\"theirBalance\":1,\"counterpartyBalance\":2}", 400, "INVALID_BODY")]
    [InlineData("{\"customerId\":\"bal\",\"yourBalance\":1,\"tolerance\":{\"absolute\":-1}}", 400, "INVALID_TOLERANCE")]
    [InlineData("{\"customerId\":\"bal\",\"yourBalance\":1,\"period\":\"2028-01\",\"startingCheckpoint\":\"rec_1\"}", 400, "INVALID_SCOPE_COMBINATION")]
    [InlineData("{\"customerId\":\"bal\",\"yourBalance\":1,\"startDate\":\"2020-01-01\",\"endDate\":\"2022-01-01\"}", 400, "SCOPE_TOO_WIDE")]
    [InlineData("{\"customerId\":\"bal\",\"yourRecords\":[{\"referenceId\":\"\",\"amount\":1}]}", 400, "INVALID_REFERENCE_ID")]
    [InlineData("{\"customerId\":\"bal\",\"yourRecords\":[{\"referenceId\":\"a\",\"amount\":1,\"time\":\"x\"}]}", 400, "INVALID_DATE")]
    [InlineData("{\"customerId\":\"nobody\",\"yourBalance\":1}", 404, "CUSTOMER_NOT_FOUND")]
    public async Task Compare_BadRequest_ReturnsItsCode(string json, int status, string code)
    {
        using var client = server.Client();
        var body = await Compare(client, json, status);

        Assert.Equal(code, Api.Code(body));
    }

    [Fact]
    public async Task Compare_BodyAboveTheBatchLimit_IsAccepted_AndAboveItsOwnLimitIs413()
    {
        using var client = server.Client();
        var ledger = await Ledger(client, "big", 5, new Random(9));
        var padding = string.Join(",", Enumerable.Range(0, 40_000).Select(i =>
            $"{{\"referenceId\":\"pad-{i:D6}\",\"amount\":1}}"));
        var data = await Compare(client, $"{{\"customerId\":\"big\",\"yourRecords\":[{padding}]}}");
        Assert.Equal(40_005, data.GetProperty("discrepancyCounts").GetProperty("missing_from_ledger").GetInt64() +
            data.GetProperty("discrepancyCounts").GetProperty("missing_from_yours").GetInt64());
        Assert.Equal(Limits.CompareDiscrepanciesMax, data.GetProperty("discrepancies").GetArrayLength());
        Assert.True(data.GetProperty("discrepanciesTruncated").GetBoolean());
        Assert.Equal(5, ledger.Count);

        var huge = new StringBuilder("{\"customerId\":\"big\",\"yourRecords\":[");
        huge.Append(new string(' ', Limits.CompareBodyBytesMax)).Append("]}");
        // As for emit: the server answers before reading the rest and closes the connection; the status is reliable.
        var (status, _) = await Api.Post(client, "api/v1/balance/compare", huge.ToString());
        Assert.Equal(413, status);
    }

    [Fact]
    public async Task Windows_RootsAndTotals_MatchWhatThePartyCanRecompute()
    {
        using var client = server.Client();
        var hashes = new List<byte[]>();
        var amounts = new List<decimal>();
        string? last = null;
        for (var i = 0; i < 6; i++)
        {
            var (status, body) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("win", $"{i + 1}.5", "usage", $"w{i}"));
            Assert.Equal(201, status);
            hashes.Add(Convert.FromHexString(body.GetProperty("data").GetProperty("itemHash").GetString()![2..]));
            amounts.Add(i + 1.5m);
            last = body.GetProperty("data").GetProperty("recordId").GetString();
        }
        await Api.WaitVerified(client, last!);

        var (code, response) = await Api.Get(client, "api/v1/balance/compare/win/windows?granularity=month");

        Assert.Equal(200, code);
        var windows = response.GetProperty("data").GetProperty("windows").EnumerateArray().ToList();
        var current = Assert.Single(windows);
        Assert.Equal(6, current.GetProperty("count").GetInt64());
        Assert.Equal(amounts.Sum(), current.GetProperty("net").GetDecimal());
        Assert.Equal(amounts.Sum(), current.GetProperty("endingBalance").GetDecimal());
        Assert.Equal("0x" + Convert.ToHexStringLower(MerkleTree.RootFromLeafHashes(hashes)),
            current.GetProperty("root").GetString());

        var (byDay, days) = await Api.Get(client, "api/v1/balance/compare/win/windows");
        Assert.Equal(200, byDay);
        Assert.Equal("day", days.GetProperty("data").GetProperty("granularity").GetString());
        Assert.Equal(6, days.GetProperty("data").GetProperty("windows").EnumerateArray().Sum(w => w.GetProperty("count").GetInt64()));
    }
}
