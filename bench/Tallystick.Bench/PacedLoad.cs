using System.Diagnostics;

namespace Tallystick.Bench;

/// <summary>
/// Open-loop load: requests start on a fixed schedule (<c>rate</c> per second) whatever the answers, and each latency
/// is measured from its scheduled start, so a stalled server is charged for the requests it delayed (no coordinated
/// omission). Latency percentiles of a closed loop at saturation measure queueing; this measures a server with
/// headroom, at a stated load.
/// </summary>
internal static class PacedLoad
{
    /// <summary>Requests in flight beyond which the schedule is declared unsustainable (the run is then reported
    /// as overloaded rather than silently slowed down).</summary>
    public const int InFlightMax = 256;

    public static async Task<LoadResult> RunAsync(Uri baseUri, double rate, TimeSpan duration, int customers, int seed)
    {
        using var client = ClientLoad.NewClient(64);
        var random = new Random(seed);
        var latencies = new List<double>((int)(rate * duration.TotalSeconds) + 16);
        var gate = new Lock();
        long failed = 0, inFlight = 0, overloaded = 0;
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        var interval = 1.0 / rate;
        for (long n = 0; ; n++)
        {
            var scheduled = n * interval;
            if (scheduled >= duration.TotalSeconds)
            {
                break;
            }
            var wait = scheduled - clock.Elapsed.TotalSeconds;
            if (wait > 0.002)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait - 0.001));
            }
            while (clock.Elapsed.TotalSeconds < scheduled)
            {
                Thread.SpinWait(50);
            }
            if (Interlocked.Read(ref inFlight) >= InFlightMax)
            {
                overloaded++;
                continue;
            }
            var uri = new Uri(baseUri, "/api/v1/balance/derive/" + Bodies.CustomerId(random.Next(customers)));
            Interlocked.Increment(ref inFlight);
            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    using var response = await client.GetAsync(uri);
                    await response.Content.ReadAsByteArrayAsync();
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref failed);
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
                var latencyMs = (clock.Elapsed.TotalSeconds - scheduled) * 1000;
                lock (gate)
                {
                    latencies.Add(latencyMs);
                }
            }));
        }
        await Task.WhenAll(tasks);
        var seconds = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        var detail = overloaded > 0 ? $"OVERLOADED: {overloaded} scheduled requests skipped at {InFlightMax} in flight" :
            failed > 0 ? $"{failed} failed" : "";
        return new LoadResult(latencies.Count, failed + overloaded, seconds, Stats.Percentile(latencies, 50),
            Stats.Percentile(latencies, 90), Stats.Percentile(latencies, 99), latencies.Count > 0 ? latencies[^1] : 0, detail);
    }
}
