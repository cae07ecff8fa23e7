using System.Diagnostics;
using System.Net;

namespace Tallystick.Bench;

/// <summary>What a bulk load achieved.</summary>
internal sealed record LoadedDeltas(long Deltas, long FailedDeltas, long Retries, TimeSpan Elapsed, string? StoppedBecause)
{
    public double PerSecond => Elapsed.TotalSeconds > 0 ? Deltas / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Loads an exact number of deltas as fast as it can: batch emits of 100 items whose items are spread over the
/// customers (item k goes to customer k mod customers), unique referenceIds, <c>concurrency</c> requests in flight.
/// A 503 (queue full) is retried after a short pause and counted. Loading stops early at the time cap, or when the
/// temp directory's disk has less than <see cref="FreeDiskMinBytes"/> left (the server's WAL can grow large).
/// </summary>
internal static class BatchLoader
{
    public const long FreeDiskMinBytes = 5L << 30;

    public static async Task<LoadedDeltas> LoadAsync(Uri baseUri, long total, int customers, int concurrency,
        string prefix, TimeSpan cap, string label)
    {
        using var client = ClientLoad.NewClient(concurrency);
        var uri = new Uri(baseUri, "/api/v1/balance/delta/batch");
        var batches = (total + Bodies.BatchSize - 1) / Bodies.BatchSize;
        long next = -1, loaded = 0, failed = 0, retries = 0;
        var clock = Stopwatch.StartNew();
        string? stoppedBecause = null;
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var b = Interlocked.Increment(ref next);
                if (b >= batches)
                {
                    return;
                }
                if (clock.Elapsed > cap)
                {
                    stoppedBecause ??= $"STOPPED at the {Stats.Seconds(cap)} time cap";
                }
                if (stoppedBecause is not null)
                {
                    return;
                }
                var first = b * Bodies.BatchSize;
                var count = (int)Math.Min(Bodies.BatchSize, total - first);
                var body = Bodies.Batch(first, count, k => k % customers, prefix);
                for (var attempt = 0; ; attempt++)
                {
                    using var request = ClientLoad.Post(uri, body);
                    try
                    {
                        using var response = await client.SendAsync(request);
                        if (response.IsSuccessStatusCode)
                        {
                            Interlocked.Add(ref loaded, count);
                            break;
                        }
                        if (response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 200)
                        {
                            Interlocked.Increment(ref retries);
                            await Task.Delay(20);
                            continue;
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                    }
                    Interlocked.Add(ref failed, count);
                    break;
                }
            }
        })).ToList();
        var all = Task.WhenAll(workers);
        var lastReport = TimeSpan.Zero;
        while (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(1))) != all)
        {
            var free = FreeDiskBytes();
            if (free < FreeDiskMinBytes)
            {
                stoppedBecause ??= $"STOPPED: only {Stats.MiB(free)} of disk left in {Path.GetTempPath()}";
            }
            if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(10))
            {
                lastReport = clock.Elapsed;
                var done = Interlocked.Read(ref loaded);
                Console.WriteLine($"    {label}: {done:N0} of {total:N0} deltas after {Stats.Seconds(clock.Elapsed)} " +
                    $"({Stats.Rate(done / clock.Elapsed.TotalSeconds)}/s)");
            }
        }
        await all;
        return new LoadedDeltas(loaded, failed, retries, clock.Elapsed, stoppedBecause);
    }

    private static long FreeDiskBytes()
    {
        try
        {
            return new DriveInfo(Path.GetTempPath()).AvailableFreeSpace;
        }
        catch (IOException)
        {
            return long.MaxValue;
        }
    }
}
