using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Tallystick.Bench;

/// <summary>One sampled emit: when it was answered and when VERIFIED was first seen.</summary>
internal sealed record ProbeSample(double EmitMs, double ToVerifiedMs, double LowerBoundMs, int Polls);

internal sealed record ProbeReport(IReadOnlyList<ProbeSample> Samples, int Launched, int FailedEmits, int NeverVerified,
    IReadOnlyList<double> PollMs);

/// <summary>
/// Sampled emits for the emit→VERIFIED latency: paced at a fixed interval alongside the main load, each one polls
/// <c>GET /delta/{recordId}</c> right after its emit is answered and then every 2 ms until the status is VERIFIED.
/// The figure is "emit answered → first response saying VERIFIED received" (an upper bound, by at most one poll
/// interval plus one status round trip); the lower bound is "→ the last non-VERIFIED poll was sent".
/// </summary>
internal static class VerifyProbes
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(10);

    public static async Task<ProbeReport> RunAsync(Uri baseUri, TimeSpan duration, TimeSpan interval, int customers,
        string prefix)
    {
        using var client = ClientLoad.NewClient(1024);
        var samples = new ConcurrentBag<ProbeSample>();
        var polls = new ConcurrentBag<double>();
        var failed = 0;
        var tasks = new List<Task>();
        var random = new Random(42);
        var clock = Stopwatch.StartNew();
        for (var i = 0; clock.Elapsed < duration; i++)
        {
            var n = i;
            var customer = random.Next(customers);
            tasks.Add(Task.Run(async () =>
            {
                if (await ProbeAsync(client, baseUri, customer, $"{prefix}-{n}", polls) is { } sample)
                {
                    samples.Add(sample);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }));
            var wait = interval * (i + 1) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }
        await Task.WhenAll(tasks);
        var never = samples.Count(s => s.ToVerifiedMs < 0);
        var verified = samples.Where(s => s.ToVerifiedMs >= 0).ToList();
        return new ProbeReport(verified, tasks.Count, failed, never, polls.Order().ToList());
    }

    private static async Task<ProbeSample?> ProbeAsync(HttpClient client, Uri baseUri, int customer, string reference,
        ConcurrentBag<double> polls)
    {
        var sent = Stopwatch.GetTimestamp();
        string recordId;
        try
        {
            using var request = ClientLoad.Post(new Uri(baseUri, "/api/v1/balance/delta"), Bodies.Emit(customer, reference));
            using var response = await client.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
            recordId = document.RootElement.GetProperty("data").GetProperty("recordId").GetString()!;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
        var answered = Stopwatch.GetTimestamp();
        var emitMs = Stopwatch.GetElapsedTime(sent, answered).TotalMilliseconds;
        var status = new Uri(baseUri, "/api/v1/balance/delta/" + recordId);
        var lastNotVerifiedSent = answered;
        for (var count = 1; ; count++)
        {
            var pollStart = Stopwatch.GetTimestamp();
            var isVerified = false;
            try
            {
                using var response = await client.GetAsync(status);
                using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
                isVerified = response.IsSuccessStatusCode && string.Equals(
                    document.RootElement.GetProperty("data").GetProperty("status").GetString(), "VERIFIED",
                    StringComparison.Ordinal);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException
                or KeyNotFoundException or InvalidOperationException)
            {
            }
            var now = Stopwatch.GetTimestamp();
            polls.Add(Stopwatch.GetElapsedTime(pollStart, now).TotalMilliseconds);
            if (isVerified)
            {
                return new ProbeSample(emitMs, Stopwatch.GetElapsedTime(answered, now).TotalMilliseconds,
                    Stopwatch.GetElapsedTime(answered, lastNotVerifiedSent).TotalMilliseconds, count);
            }
            lastNotVerifiedSent = pollStart;
            if (Stopwatch.GetElapsedTime(answered, now) > GiveUp)
            {
                return new ProbeSample(emitMs, -1, -1, count);
            }
            var wait = PollInterval - Stopwatch.GetElapsedTime(pollStart);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }
    }
}
