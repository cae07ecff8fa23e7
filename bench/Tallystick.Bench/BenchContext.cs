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
        using var client = ClientLoad.NewClient(1);
        var uri = new Uri(baseUri, "/readyz");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var json = await client.GetByteArrayAsync(uri);
            using var document = JsonDocument.Parse(json);
            var sequenced = document.RootElement.GetProperty("sequencedSize").GetInt64();
            var checkpoint = document.RootElement.GetProperty("checkpointSize").GetInt64();
            if (checkpoint >= sequenced)
            {
                return (clock.Elapsed, checkpoint);
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"only {checkpoint:N0} of {sequenced:N0} log entries verified after {timeout}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits until the server's clustered row copy (customer-rows.db) holds every durable delta (/readyz uncopiedRows
    /// is 0): the steady state reads are measured in. Its copier runs only on idle CPU, so after a preload that kept
    /// both cores busy it catches up here.
    /// </summary>
    public static async Task<TimeSpan> WaitRowsCopiedAsync(Uri baseUri, TimeSpan timeout)
    {
        using var client = ClientLoad.NewClient(1);
        var uri = new Uri(baseUri, "/readyz");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var json = await client.GetByteArrayAsync(uri);
            using var document = JsonDocument.Parse(json);
            var uncopied = document.RootElement.GetProperty("uncopiedRows").GetInt64();
            if (uncopied == 0)
            {
                return clock.Elapsed;
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{uncopied:N0} deltas still not copied into customer_rows after {timeout}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>One line for a load result: rate, latency percentiles, failures.</summary>
    public static string Describe(LoadResult result, string unit = "req/s", double perRequest = 1) =>
        $"{Stats.Rate(result.OkPerSecond * perRequest)} {unit}, latency p50 {Stats.Ms(result.P50Ms)} " +
        $"p90 {Stats.Ms(result.P90Ms)} p99 {Stats.Ms(result.P99Ms)} max {Stats.Ms(result.MaxMs)} " +
        $"({result.Requests:N0} requests in {result.Seconds:0.0} s" +
        (result.Failed > 0 || result.FailureDetail.Length > 0 ? $"; FAILED {result.Failed:N0}: {result.FailureDetail})" : ")");
}
