using System.Diagnostics;
using System.Text.Json;

namespace Tallystick.Bench;

/// <summary>What every phase needs: the settings, the load generator, and a few shared helpers.</summary>
internal sealed class BenchContext(BenchOptions options, ILoadGenerator load)
{
    /// <summary>Customers the load is spread over (ids cust_0 … cust_9999).</summary>
    public const int Customers = 10_000;

    public BenchOptions Options { get; } = options;

    public ILoadGenerator Load { get; } = load;

    /// <summary>
    /// Waits until every sequenced entry is covered by a signed checkpoint (VERIFIED), per /readyz.
    /// Returns the time it took and the final log size.
    /// </summary>
    public static async Task<(TimeSpan Waited, long Size)> WaitAllVerifiedAsync(Uri baseUri, TimeSpan timeout)
    {
        long size = 0;
        var waited = await WaitReadyAsync(baseUri, timeout, ready =>
        {
            var sequenced = ready.GetProperty("sequencedSize").GetInt64();
            size = ready.GetProperty("checkpointSize").GetInt64();
            return size >= sequenced ? null : $"only {size:N0} of {sequenced:N0} log entries verified";
        });
        return (waited, size);
    }

    /// <summary>
    /// Waits until the server's clustered row copy (customer-rows.db) holds every durable delta (/readyz uncopiedRows
    /// is 0): the steady state reads are measured in. Its copier runs only on idle CPU, so after a preload that kept
    /// both cores busy it catches up here.
    /// </summary>
    public static Task<TimeSpan> WaitRowsCopiedAsync(Uri baseUri, TimeSpan timeout) =>
        WaitReadyAsync(baseUri, timeout, ready => ready.GetProperty("uncopiedRows").GetInt64() is var uncopied && uncopied == 0
            ? null
            : $"{uncopied:N0} deltas still not copied into customer_rows");

    /// <summary>Polls /readyz until <paramref name="pending"/> returns null (else: what is still pending).</summary>
    private static async Task<TimeSpan> WaitReadyAsync(Uri baseUri, TimeSpan timeout, Func<JsonElement, string?> pending)
    {
        using var client = ClientLoad.NewClient(1);
        var uri = new Uri(baseUri, "/readyz");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var json = await client.GetByteArrayAsync(uri);
            using var document = JsonDocument.Parse(json);
            if (pending(document.RootElement) is not { } what)
            {
                return clock.Elapsed;
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{what} after {timeout}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>One line for a load result: rate, latency percentiles, failures.</summary>
    public static string Describe(LoadResult result, string unit = "req/s", double perRequest = 1) =>
        $"{Stats.Rate(result.OkPerSecond * perRequest)} {unit}, latency p50 {Stats.Ms(result.P50Ms)} " +
        $"p90 {Stats.Ms(result.P90Ms)} p99 {Stats.Ms(result.P99Ms)} max {Stats.Ms(result.MaxMs)} " +
        $"({result.Requests:N0} requests in {result.Seconds:0.0} s" +
        (result.Failed > 0 || result.FailureDetail.Length > 0 ? $"; FAILED {result.Failed:N0}: {result.FailureDetail})" : ")");
}
