using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Tallystick.Bench;

/// <summary>
/// Phases <c>scoped</c> and <c>compare</c>: one customer with many deltas (one record per batch of 100), then
/// scoped derive for a month, balance-only compare, and record-level compare of two 100k-record views. In-server
/// latency comes from the server's /metrics histograms; the record-level figure is the client-side duration.
/// </summary>
internal static class ReconcilePhase
{
    private const string DeriveRoute = "/api/v1/balance/derive/{customerId}";
    private const string CompareRoute = "/api/v1/balance/compare";

    public static async Task RunAsync(BenchContext bench, bool scoped)
    {
        var total = bench.Options.Quick ? 100_000 : (scoped ? 1_000_000 : 100_000);
        var cap = TimeSpan.FromSeconds(bench.Options.Quick ? 60 : 180);
        var requests = bench.Options.Quick ? 300 : 2000;
        Report.Phase(scoped
            ? $"scoped: GET /derive/cust_0?timePreset=current_month over one customer with {total:N0} deltas"
            : $"compare: POST /compare (balance-only, then 100k vs 100k records) over one customer with {total:N0} deltas");
        var dir = ServerProcess.NewDataDirectory(scoped ? "scoped" : "compare");
        try
        {
            await using var tally = await ServerProcess.StartTallyAsync(dir);
            var loaded = await BatchLoader.LoadAsync(tally.BaseUri, total, 1, BatchPhase.Connections, "rec", cap, "preload");
            await BenchContext.WaitAllVerifiedAsync(tally.BaseUri, TimeSpan.FromMinutes(2));
            var copied = await BenchContext.WaitRowsCopiedAsync(tally.BaseUri, TimeSpan.FromMinutes(2));
            Report.Line($"preload: {loaded.Deltas:N0} deltas for cust_0 in {Stats.Seconds(loaded.Elapsed)}; all rows in " +
                $"customer-rows.db {Stats.Seconds(copied)} after VERIFIED");
            using var client = ClientLoad.NewClient(1);
            if (scoped)
            {
                await ScopedAsync(client, tally.BaseUri, requests);
            }
            else
            {
                await CompareAsync(client, tally.BaseUri, requests);
            }
            await tally.StopAsync();
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(dir);
        }
    }

    private static async Task ScopedAsync(HttpClient client, Uri baseUri, int requests)
    {
        var uri = new Uri(baseUri, "/api/v1/balance/derive/cust_0?timePreset=current_month&granularity=day&limit=1");
        var before = await ServerHistogram.ReadAsync(baseUri, "GET", DeriveRoute);
        for (var i = 0; i < requests; i++)
        {
            using var response = await client.GetAsync(uri);
            response.EnsureSuccessStatusCode();
        }
        var inServer = (await ServerHistogram.ReadAsync(baseUri, "GET", DeriveRoute)).Since(before);
        Report.Line($"  {inServer.Count:N0} sequential requests (month with a day breakdown, 1 row): " +
            $"p50 <= {Stats.Ms(inServer.PercentileUpperMs(0.50))}, p99 <= {Stats.Ms(inServer.PercentileUpperMs(0.99))}");
        Report.Target("scoped", "scoped derive (month, by day) p99 in the server", inServer.PercentileUpperMs(0.99),
            "<=", 5, " ms", "0.00");
    }

    private static async Task CompareAsync(HttpClient client, Uri baseUri, int requests)
    {
        var (records, balance) = await LedgerViewAsync(client, baseUri);
        var balanceBody = $"{{\"customerId\":\"cust_0\",\"yourBalance\":{balance},\"theirBalance\":{balance},\"startingBalance\":0}}";
        var before = await ServerHistogram.ReadAsync(baseUri, "POST", CompareRoute);
        for (var i = 0; i < requests; i++)
        {
            using var content = new StringContent(balanceBody, Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(new Uri(baseUri, CompareRoute), content);
            response.EnsureSuccessStatusCode();
        }
        var inServer = (await ServerHistogram.ReadAsync(baseUri, "POST", CompareRoute)).Since(before);
        Report.Line($"  balance-only: {inServer.Count:N0} requests, p50 <= {Stats.Ms(inServer.PercentileUpperMs(0.50))}, " +
            $"p99 <= {Stats.Ms(inServer.PercentileUpperMs(0.99))}");
        Report.Target("compare", "balance-only compare p99 in the server", inServer.PercentileUpperMs(0.99), "<=", 2, " ms", "0.00");
        var view = "[" + string.Join(",", records) + "]";
        var recordBody = Encoding.UTF8.GetBytes($"{{\"customerId\":\"cust_0\",\"yourRecords\":{view},\"theirRecords\":{view}}}");
        var durations = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            using var content = new ByteArrayContent(recordBody);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            var start = Stopwatch.GetTimestamp();
            using var response = await client.PostAsync(new Uri(baseUri, CompareRoute), content);
            var answer = await response.Content.ReadAsByteArrayAsync();
            durations.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            response.EnsureSuccessStatusCode();
            using var document = JsonDocument.Parse(answer);
            if (!document.RootElement.GetProperty("data").GetProperty("match").GetBoolean())
            {
                throw new InvalidOperationException("identical views did not match the record");
            }
        }
        durations.Sort();
        Report.Line($"  record-level {records.Count:N0} vs {records.Count:N0} ({recordBody.Length / 1048576.0:N1} MiB body): " +
            $"median {Stats.Ms(durations[1])} of 3 (client side, includes upload)");
        Report.Target("compare", "record-level compare 100k vs 100k", durations[1], "<=", 1000, " ms", "0");
    }

    /// <summary>The ledger's own view of cust_0 (referenceId, amount), read through derive pages.</summary>
    private static async Task<(List<string> Records, string Balance)> LedgerViewAsync(HttpClient client, Uri baseUri)
    {
        var records = new List<string>();
        string balance = "0";
        for (long offset = 0; ; offset += 1000)
        {
            var body = await client.GetByteArrayAsync(new Uri(baseUri, $"/api/v1/balance/derive/cust_0?limit=1000&offset={offset}"));
            using var document = JsonDocument.Parse(body);
            var data = document.RootElement.GetProperty("data");
            balance = data.GetProperty("computedBalance").GetRawText();
            var rows = data.GetProperty("deltas");
            foreach (var row in rows.EnumerateArray())
            {
                records.Add($"{{\"referenceId\":{row.GetProperty("referenceId").GetRawText()}," +
                    $"\"amount\":{row.GetProperty("delta").GetRawText()}}}");
            }
            if (rows.GetArrayLength() < 1000)
            {
                return (records, balance);
            }
        }
    }
}
