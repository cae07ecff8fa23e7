using Tallystick.Merkle;

namespace Tallystick.Server.Tests;

// Goal: the emit → VERIFIED → derive path works end to end over real HTTP against a real SQLite store.
// Method: emit through the API, poll the status endpoint until VERIFIED, then check derive, customers and the
// fingerprints (receiptId is the RFC 6962 root of the item hashes) against independent computations.
public sealed class EmitAndDeriveTests(RunningServer server) : IClassFixture<RunningServer>
{
    [Fact]
    public async Task Emit_NewDelta_Returns201QueuedWithFingerprintsThenVerifies()
    {
        using var client = server.Client();
        var (status, body) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("emit_a", "-42.50", "gpu", "job-1"));

        Assert.Equal(201, status);
        Assert.True(body.GetProperty("success").GetBoolean());
        var data = body.GetProperty("data");
        var recordId = data.GetProperty("recordId").GetString()!;
        Assert.StartsWith("rec_", recordId, StringComparison.Ordinal);
        Assert.Equal(recordId, data.GetProperty("anchorId").GetString());
        Assert.Equal("QUEUED", data.GetProperty("status").GetString());
        Assert.Equal("-42.5", data.GetProperty("delta").GetRawText());
        Assert.Equal("emit_a", data.GetProperty("customerId").GetString());
        var receipt = data.GetProperty("receiptId").GetString()!;
        Assert.Matches("^0x[0-9a-f]{64}$", receipt);
        Assert.Equal(receipt, data.GetProperty("itemsRoot").GetString());
        var itemHashes = data.GetProperty("itemHashes").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Single(itemHashes);
        Assert.Equal(receipt, RootOf(itemHashes));
        Assert.Equal(0, data.GetProperty("sequenceNumber").GetInt64());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", data.GetProperty("receivedAt").GetString()!);

        var verified = await Api.WaitVerified(client, recordId);
        Assert.Equal(receipt, verified.GetProperty("receiptId").GetString());
        Assert.NotNull(verified.GetProperty("verifiedAt").GetString());
        var checkpoint = verified.GetProperty("checkpoint");
        Assert.True(checkpoint.GetProperty("size").GetInt64() > verified.GetProperty("log").GetProperty("leafIndex").GetInt64());
        Assert.StartsWith("test.tallystick/log\n", checkpoint.GetProperty("note").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Derive_ExactDecimals_SumsWithoutRounding()
    {
        using var client = server.Client();
        string? last = null;
        foreach (var delta in new[] { "0.1", "0.2", "-42.50", "1e3", "0.00000001" })
        {
            var (status, body) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("exact_b", delta));
            Assert.Equal(201, status);
            last = body.GetProperty("data").GetProperty("recordId").GetString();
        }
        await Api.WaitVerified(client, last!);

        var (code, derive) = await Api.Get(client, "api/v1/balance/derive/exact_b");

        Assert.Equal(200, code);
        var data = derive.GetProperty("data");
        Assert.Equal("957.80000001", data.GetProperty("computedBalance").GetRawText());
        Assert.Equal("957.80000001", data.GetProperty("balance").GetRawText());
        Assert.Equal(5, data.GetProperty("deltasCount").GetInt64());
        Assert.Equal(5, data.GetProperty("deltaCount").GetInt64());
        Assert.Equal(0, data.GetProperty("pendingCount").GetInt64());
        Assert.Equal("0", data.GetProperty("pendingAmount").GetRawText());
        Assert.Equal("all_time", data.GetProperty("window").GetProperty("scope").GetString());
        var rows = data.GetProperty("deltas").EnumerateArray().ToList();
        Assert.Equal(new[] { "0.1", "0.2", "-42.5", "1000", "0.00000001" }, rows.Select(r => r.GetProperty("delta").GetRawText()));
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, rows.Select(r => r.GetProperty("sequenceNumber").GetInt64()));
        Assert.Equal(rows[^1].GetProperty("index").GetInt64(), data.GetProperty("lastVerifiedIndex").GetInt64());
    }

    [Fact]
    public async Task Derive_LimitAndOffset_PageTheVerifiedRows()
    {
        using var client = server.Client();
        var items = string.Join(",", Enumerable.Range(1, 30).Select(i => Api.Emit("page_c", i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", $"{{\"deltas\":[{items}]}}");
        Assert.Equal(201, status);
        await Api.WaitVerified(client, body.GetProperty("data").GetProperty("results")[0].GetProperty("recordId").GetString()!);

        var (_, page) = await Api.Get(client, "api/v1/balance/derive/page_c?limit=10&offset=25");

        var data = page.GetProperty("data");
        Assert.Equal("465", data.GetProperty("computedBalance").GetRawText());
        var rows = data.GetProperty("deltas").EnumerateArray().Select(r => r.GetProperty("delta").GetRawText()).ToList();
        Assert.Equal(new[] { "26", "27", "28", "29", "30" }, rows);
        Assert.Equal(30, data.GetProperty("pagination").GetProperty("total").GetInt64());
        var (badStatus, bad) = await Api.Get(client, "api/v1/balance/derive/page_c?limit=1001");
        Assert.Equal(400, badStatus);
        Assert.Equal("INVALID_QUERY", Api.Code(bad));
        var (scopeStatus, scope) = await Api.Get(client, "api/v1/balance/derive/page_c?period=2000-01");
        Assert.Equal(200, scopeStatus);
        Assert.Equal("period", scope.GetProperty("data").GetProperty("window").GetProperty("scope").GetString());
        Assert.Equal(0, scope.GetProperty("data").GetProperty("deltaCount").GetInt64());
    }

    [Fact]
    public async Task DeriveAndActivity_RowsSpanningManyInterleavedRecords_MatchEveryWindow()
    {
        // A customer's deltas live in records of different sizes whose rowids interleave with other customers':
        // every (offset, limit) window must return exactly the expected sequence numbers and amounts.
        using var client = server.Client();
        var amounts = new List<int>();
        string? lastRecord = null;
        foreach (var size in new[] { 1, 3, 2, 5, 1, 4 })
        {
            var items = new List<string>();
            for (var i = 0; i < size; i++)
            {
                var amount = amounts.Count + 1;
                amounts.Add(amount);
                items.Add(Api.Emit("interleaved_other", "1"));
                items.Add(Api.Emit("interleaved_me", amount.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", $"{{\"deltas\":[{string.Join(",", items)}]}}");
            Assert.Equal(201, status);
            lastRecord = body.GetProperty("data").GetProperty("results")[1].GetProperty("recordId").GetString();
        }
        await Api.WaitVerified(client, lastRecord!);

        for (var offset = 0; offset <= amounts.Count; offset++)
        {
            foreach (var limit in new[] { 1, 2, 5, 100 })
            {
                var (_, page) = await Api.Get(client, $"api/v1/balance/derive/interleaved_me?limit={limit}&offset={offset}");
                var rows = page.GetProperty("data").GetProperty("deltas").EnumerateArray().ToList();
                var expected = Enumerable.Range(offset, Math.Max(0, Math.Min(limit, amounts.Count - offset))).ToList();
                Assert.Equal(expected.Select(i => (long)i), rows.Select(r => r.GetProperty("sequenceNumber").GetInt64()));
                Assert.Equal(expected.Select(i => amounts[i].ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    rows.Select(r => r.GetProperty("delta").GetRawText()));
            }
        }
        var (_, activity) = await Api.Get(client, "api/v1/balance/customers/interleaved_me?deltaLimit=4&deltaPage=2");
        var recent = activity.GetProperty("data").GetProperty("recentActivity").GetProperty("items").EnumerateArray()
            .Select(r => r.GetProperty("sequenceNumber").GetInt64()).ToList();
        Assert.Equal(new long[] { 11, 10, 9, 8 }, recent);
    }

    [Fact]
    public async Task Batch_MixedCustomersAndInvalidItems_GroupsPerCustomerAndFailsItemsIndividually()
    {
        using var client = server.Client();
        var json = "{\"deltas\":[" + Api.Emit("batch_x", "-100") + "," + Api.Emit("batch_y", "-200") + "," +
            "{\"customerId\":\"batch_x\",\"delta\":0,\"reason\":\"zero\"}," + Api.Emit("batch_x", "5.5") + "]}";

        var (status, body) = await Api.Post(client, "api/v1/balance/delta/batch", json);

        Assert.Equal(201, status);
        var data = body.GetProperty("data");
        Assert.Equal(3, data.GetProperty("totalQueued").GetInt32());
        Assert.Equal(1, data.GetProperty("totalFailed").GetInt32());
        var results = data.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(new[] { 0, 1, 2, 3 }, results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal("FAILED", results[2].GetProperty("status").GetString());
        Assert.Equal("DELTA_MUST_NOT_BE_ZERO", results[2].GetProperty("error").GetString());
        // Items of one customer share a record and receipt; another customer gets its own.
        Assert.Equal(results[0].GetProperty("recordId").GetString(), results[3].GetProperty("recordId").GetString());
        Assert.NotEqual(results[0].GetProperty("recordId").GetString(), results[1].GetProperty("recordId").GetString());
        var receipt = results[0].GetProperty("receiptId").GetString();
        Assert.Equal(receipt, RootOf([results[0].GetProperty("itemHash").GetString()!, results[3].GetProperty("itemHash").GetString()!]));
        var efficiency = data.GetProperty("_efficiency");
        Assert.Equal(2, efficiency.GetProperty("uniqueCustomers").GetInt32());
        Assert.Equal(4, efficiency.GetProperty("totalDeltas").GetInt32());
        Assert.Equal(2, efficiency.GetProperty("estimatedSlots").GetInt32());

        var record = await Api.WaitVerified(client, results[0].GetProperty("recordId").GetString()!);
        Assert.Equal(2, record.GetProperty("deltaCount").GetInt32());
        Assert.Equal(new long[] { 0, 1 }, record.GetProperty("deltas").EnumerateArray().Select(d => d.GetProperty("sequenceNumber").GetInt64()));
        Assert.Equal("-94.5", record.GetProperty("netDelta").GetRawText());
    }

    [Fact]
    public async Task Customers_ListAndDetail_ShowTotalsAndRecentActivity()
    {
        using var client = server.Client();
        await Api.Post(client, "api/v1/balance/delta", Api.Emit("list_zz1", "3"));
        var (_, body) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("list_zz1", "4"));
        await Api.WaitVerified(client, body.GetProperty("data").GetProperty("recordId").GetString()!);

        var (status, list) = await Api.Get(client, "api/v1/balance/customers?search=LIST_ZZ&limit=5");
        Assert.Equal(200, status);
        var customer = Assert.Single(list.GetProperty("data").GetProperty("customers").EnumerateArray());
        Assert.Equal("list_zz1", customer.GetProperty("customerId").GetString());
        Assert.Equal(2, customer.GetProperty("totalDeltas").GetInt64());
        Assert.Equal("7", customer.GetProperty("computedBalance").GetRawText());
        var reference = customer.GetProperty("customerReference").GetString()!;
        Assert.Matches("^0x[0-9a-f]{40}$", reference);
        Assert.DoesNotContain("list_zz1", reference, StringComparison.Ordinal);

        var (detailStatus, detail) = await Api.Get(client, "api/v1/balance/customers/list_zz1?deltaLimit=1");
        Assert.Equal(200, detailStatus);
        var data = detail.GetProperty("data");
        Assert.Equal(reference, data.GetProperty("customerReference").GetString());
        var item = Assert.Single(data.GetProperty("recentActivity").GetProperty("items").EnumerateArray());
        Assert.Equal("4", item.GetProperty("delta").GetRawText());
        Assert.Equal(2, data.GetProperty("recentActivity").GetProperty("pagination").GetProperty("totalPages").GetInt64());

        var (missing, notFound) = await Api.Get(client, "api/v1/balance/customers/nobody_here");
        Assert.Equal(404, missing);
        Assert.Equal("CUSTOMER_NOT_FOUND", Api.Code(notFound));
        var (deriveMissing, _) = await Api.Get(client, "api/v1/balance/derive/nobody_here");
        Assert.Equal(404, deriveMissing);
    }

    [Fact]
    public async Task Health_LiveAndReady_Answer200()
    {
        using var client = server.Client(apiKey: null);
        Assert.Equal(200, (await Api.Get(client, "healthz")).Status);
        var (status, ready) = await Api.Get(client, "readyz");
        Assert.Equal(200, status);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        using var openApi = await client.GetAsync("openapi/v1.json");
        Assert.Equal(200, (int)openApi.StatusCode);
        Assert.Contains("/api/v1/balance/delta", await openApi.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static string RootOf(IReadOnlyList<string> hexHashes) =>
        "0x" + Convert.ToHexStringLower(MerkleTree.RootFromLeafHashes(hexHashes.Select(h => Convert.FromHexString(h[2..])).ToList()));
}
