using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Tallystick.Bench;

/// <summary>
/// The webhooks phase (issue 5's targets, side by side on one server): emit→VERIFIED throughput under the single-emit
/// load with no endpoint, with an endpoint that black-holes every request and with an endpoint on a fast receiver
/// (rotated order per round); the delivery latency from <c>verifiedAt</c> to arrival in the fast rounds and at a
/// light pace; then deliveries per second while a batch load's events drain to the fast receiver.
/// </summary>
internal static class WebhookPhase
{
    private const int Rounds = 3;
    private const string None = "none";
    private const string Hole = "black hole";
    private const string Fast = "fast";

    /// <summary>After a fast round, the receiver counts as caught up once nothing arrived for this long.</summary>
    private static readonly TimeSpan QuietAfterRound = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(BenchContext bench)
    {
        var window = bench.Options.Window(5, 2);
        var warm = bench.Options.Warmup(2, 1);
        Report.Phase($"webhooks: emit -> VERIFIED with no endpoint / a black-holed one / a fast one " +
            $"({HttpPhase.Connections} connections), delivery latency, deliveries/s");
        var dir = ServerProcess.NewDataDirectory("webhooks");
        try
        {
            await using var tally = await ServerProcess.StartTallyAsync(dir, webhooksAllowPrivateTargets: true);
            await using var fast = await FastReceiver.StartAsync();
            using var hole = new BlackHole();
            using var admin = ClientLoad.NewClient(8);
            var api = new EndpointsApi(admin, tally.BaseUri);
            var fastId = await api.CreateAsync(fast.Url, "[\"delta.verified\"]");
            var holeId = await api.CreateAsync(hole.Url, null);
            Report.Line($"server: TALLY_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true; fast receiver {fast.Url} (Kestrel in the " +
                $"bench, answers 200 at once; subscribed to delta.verified); black hole {hole.Url} (accepts TCP, never " +
                "answers; subscribed to every event)");
            Report.Line($"load: {bench.Load.Description}, as in phase http; {Rounds} rounds of {Stats.Seconds(window)} " +
                $"per configuration, order rotated per round, after a {Stats.Seconds(warm)} warm-up");
            await bench.Load.RunAsync(Spec(tally, warm, "warm"));
            var results = new Dictionary<string, List<RoundResult>>(StringComparer.Ordinal)
            {
                [None] = [], [Hole] = [], [Fast] = [],
            };
            string[] configurations = [None, Hole, Fast];
            for (var round = 1; round <= Rounds; round++)
            {
                foreach (var configuration in configurations.Skip(round - 1).Concat(configurations.Take(round - 1)))
                {
                    var id = configuration switch { Hole => holeId, Fast => fastId, _ => null };
                    var result = await RunRound(bench, tally, api, fast, (configuration, id), window,
                        $"r{round}{configuration[0]}");
                    results[configuration].Add(result);
                    Report.Line($"round {round} {configuration,-10}: {result.Describe()}");
                }
            }
            var throughput = ReportRounds(results);
            var latency = await PacedLatency(bench, tally, api, fast, fastId);
            await api.SetEnabledAsync(fastId, enabled: true);
            var deliveries = await Drain(bench, tally, fast);
            await api.SetEnabledAsync(fastId, enabled: false);
            Report.Line($"black hole: {hole.Accepted:N0} connections accepted (and never answered) over the phase");
            Report.Target("webhooks", "deliveries/s to a fast receiver (backlog drain)", deliveries, ">=", 5_000, "");
            Report.Target("webhooks", "emit->VERIFIED drop, black-holed endpoint", throughput.Drop, "<", 10, " %", "0.0");
            Report.Target("webhooks", "delivery p50 after VERIFIED (emit load)", throughput.LatencyP50, "<=", 50, " ms",
                "0.0");
            Report.Line($"(at a light pace the p50 was {Stats.Ms(latency)})");
            await tally.StopAsync();
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(dir);
        }
    }

    private static LoadSpec Spec(ServerProcess server, TimeSpan duration, string prefix) =>
        new(LoadKind.Emit, server.BaseUri, HttpPhase.Connections, duration, prefix, BenchContext.Customers);

    /// <summary>What one configuration's round measured.</summary>
    private sealed record RoundResult(LoadResult Load, long Verified, double VerifiedPerSecond, CpuUsage Cpu,
        int Delivered,
        List<double> LatenciesMs, List<double> ToSignedMs)
    {
        public string Describe() =>
            $"{Stats.Rate(VerifiedPerSecond)} deltas VERIFIED/s; emits {BenchContext.Describe(Load, "emits/s")}" +
            (LatenciesMs.Count > 0
                ? $"; delivered {Delivered:N0}, latency after VERIFIED p50 {Stats.Ms(Stats.Percentile(LatenciesMs, 50))} " +
                    $"p99 {Stats.Ms(Stats.Percentile(LatenciesMs, 99))} max {Stats.Ms(LatenciesMs[^1])} (of which " +
                    $"VERIFIED -> signed for sending p50 {Stats.Ms(Stats.Percentile(ToSignedMs, 50))})"
                : "");
    }

    private static async Task<RoundResult> RunRound(BenchContext bench, ServerProcess tally, EndpointsApi api,
        FastReceiver fast, (string Name, string? EndpointId) configuration, TimeSpan window, string prefix)
    {
        var endpointId = configuration.EndpointId;
        if (endpointId is not null)
        {
            await api.SetEnabledAsync(endpointId, enabled: true);
        }
        var seenBefore = fast.Snapshot().Count;
        var verifiedBefore = await api.CheckpointSizeAsync();
        var clock = Stopwatch.StartNew();
        var startMs = FastReceiver.NowMs();
        var watch = CpuWatch.Start(tally.Pid);
        var load = await bench.Load.RunAsync(Spec(tally, window, prefix));
        var cpu = watch.Stop();
        var verified = await api.CheckpointSizeAsync() - verifiedBefore;
        var verifiedPerSecond = verified / clock.Elapsed.TotalSeconds;
        var endMs = FastReceiver.NowMs();
        var latencies = new List<double>();
        var toSigned = new List<double>();
        var delivered = 0;
        if (configuration.Name == Fast)
        {
            await WaitQuiet(fast, TimeSpan.FromSeconds(60));
            var arrivals = fast.Snapshot().Skip(seenBefore).ToList();
            delivered = arrivals.Count;
            // Deltas VERIFIED in the first half second are left out: the load was still ramping up.
            var measured = arrivals.Where(a => a.VerifiedAtMs >= startMs + 500 && a.VerifiedAtMs <= endMs).ToList();
            latencies = measured.Select(a => a.ArrivedAtMs - a.VerifiedAtMs).Order().ToList();
            toSigned = measured.Select(a => (double)(a.SignedAtMs - a.VerifiedAtMs)).Order().ToList();
        }
        if (endpointId is not null)
        {
            await api.SetEnabledAsync(endpointId, enabled: false);
        }
        return new RoundResult(load, verified, verifiedPerSecond, cpu, delivered, latencies, toSigned);
    }

    private static async Task WaitQuiet(FastReceiver fast, TimeSpan cap)
    {
        var clock = Stopwatch.StartNew();
        var count = fast.Requests;
        var quietSince = clock.Elapsed;
        while (clock.Elapsed < cap)
        {
            await Task.Delay(100);
            if (fast.Requests != count)
            {
                count = fast.Requests;
                quietSince = clock.Elapsed;
            }
            else if (clock.Elapsed - quietSince >= QuietAfterRound)
            {
                return;
            }
        }
        Report.Line($"(the fast receiver was still receiving after {Stats.Seconds(cap)})");
    }

    private static (double Drop, double LatencyP50) ReportRounds(Dictionary<string, List<RoundResult>> results)
    {
        double Median(string configuration) => Stats.Median(results[configuration].Select(r => r.VerifiedPerSecond));
        var none = Median(None);
        var hole = Median(Hole);
        var fastRate = Median(Fast);
        var drop = (none - hole) / none * 100;
        Report.Line($"median deltas VERIFIED/s: none {Stats.Rate(none)}, black hole {Stats.Rate(hole)} " +
            $"({-drop:+0.0;-0.0} %), fast receiver {Stats.Rate(fastRate)} ({(fastRate - none) / none * 100:+0.0;-0.0} %)");
        Report.Line("  per round, black hole vs none: " + string.Join(", ", results[Hole].Zip(results[None],
            (h, n) => $"{(h.VerifiedPerSecond - n.VerifiedPerSecond) / n.VerifiedPerSecond * 100:+0.0;-0.0} %")));
        // The machine is shared: the server's CPU per VERIFIED delta moves less with other people's load than the rate.
        double CpuPerDelta(string configuration) => results[configuration].Sum(r => r.Cpu.ServerSeconds) * 1e6 /
            Math.Max(1, results[configuration].Sum(r => r.Verified));
        var cpuNone = CpuPerDelta(None);
        Report.Line($"server CPU per VERIFIED delta: none {cpuNone:0} us, black hole {CpuPerDelta(Hole):0} us " +
            $"({(CpuPerDelta(Hole) - cpuNone) / cpuNone * 100:+0.0;-0.0} %), fast receiver {CpuPerDelta(Fast):0} us " +
            $"({(CpuPerDelta(Fast) - cpuNone) / cpuNone * 100:+0.0;-0.0} %; it also delivers)");
        var p50 = Stats.Median(results[Fast].Select(r => Stats.Percentile(r.LatenciesMs, 50)));
        var p99 = Stats.Median(results[Fast].Select(r => Stats.Percentile(r.LatenciesMs, 99)));
        Report.Line($"delivery latency (verifiedAt -> arrival at the fast receiver, during the emit load): median of " +
            $"the rounds' p50 {Stats.Ms(p50)}, p99 {Stats.Ms(p99)}");
        foreach (var configuration in new[] { None, Hole, Fast })
        {
            Report.Lines(CpuUsage.Merge(results[configuration].Select(r => r.Cpu).ToList())
                .Describe($"[{configuration}] tally"));
        }
        return (drop, p50);
    }

    /// <summary>The delivery latency with no other load: single emits one every 20 ms.</summary>
    private static async Task<double> PacedLatency(BenchContext bench, ServerProcess tally, EndpointsApi api,
        FastReceiver fast, string fastId)
    {
        var count = bench.Options.Quick ? 50 : 150;
        await api.SetEnabledAsync(fastId, enabled: true);
        var before = fast.Snapshot().Count;
        var startMs = FastReceiver.NowMs();
        var uri = new Uri(tally.BaseUri, "/api/v1/balance/delta");
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            using var request = ClientLoad.Post(uri, Bodies.Emit(i % BenchContext.Customers, $"paced-{i}"));
            using var response = await api.Client.SendAsync(request);
            var wait = TimeSpan.FromMilliseconds(20 * (i + 1)) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }
        await WaitQuiet(fast, TimeSpan.FromSeconds(30));
        await api.SetEnabledAsync(fastId, enabled: false);
        var latencies = fast.Snapshot().Skip(before).Where(a => a.VerifiedAtMs >= startMs)
            .Select(a => a.ArrivedAtMs - a.VerifiedAtMs).Order().ToList();
        Report.Line($"light pace ({count} single emits, one every 20 ms, no other load): {latencies.Count} delivered, " +
            $"latency after VERIFIED p50 {Stats.Ms(Stats.Percentile(latencies, 50))} " +
            $"p90 {Stats.Ms(Stats.Percentile(latencies, 90))} max {Stats.Ms(latencies.Count > 0 ? latencies[^1] : 0)}");
        return Stats.Percentile(latencies, 50);
    }

    /// <summary>Deliveries per second: a batch load's delta.verified events drained to the fast receiver.</summary>
    private static async Task<double> Drain(BenchContext bench, ServerProcess tally, FastReceiver fast)
    {
        var total = bench.Options.Quick ? 20_000L : 100_000L;
        var before = fast.Snapshot().Count;
        var loaded = await BatchLoader.LoadAsync(tally.BaseUri, total, BenchContext.Customers, BatchPhase.Connections,
            "drain", TimeSpan.FromSeconds(120), "webhook drain load");
        var loadedAtMs = FastReceiver.NowMs();
        var clock = Stopwatch.StartNew();
        while (fast.Snapshot().Count - before < loaded.Deltas && clock.Elapsed < TimeSpan.FromSeconds(180))
        {
            await Task.Delay(50);
        }
        var arrivals = fast.Snapshot().Skip(before).ToList();
        if (arrivals.Count < 2)
        {
            throw new InvalidOperationException($"only {arrivals.Count} deliveries arrived of {loaded.Deltas:N0}");
        }
        var seconds = (arrivals[^1].ArrivedAtMs - arrivals[0].ArrivedAtMs) / 1000;
        var rate = arrivals.Count / seconds;
        var afterLoad = arrivals.Count(a => a.ArrivedAtMs > loadedAtMs);
        var afterSeconds = (arrivals[^1].ArrivedAtMs - loadedAtMs) / 1000;
        var drainRate = afterLoad > 0 && afterSeconds > 0 ? afterLoad / afterSeconds : 0;
        Report.Line($"drain: {loaded.Deltas:N0} deltas loaded in batches of {Bodies.BatchSize} in " +
            $"{Stats.Seconds(loaded.Elapsed)} ({Stats.Rate(loaded.PerSecond)} deltas/s); {arrivals.Count:N0} distinct " +
            $"deliveries ({fast.Requests:N0} requests in the phase), the first to the last in {seconds:0.00} s: " +
            $"{Stats.Rate(rate)} deliveries/s overall");
        Report.Line($"  during the load {arrivals.Count - afterLoad:N0}; after it ended {afterLoad:N0} in " +
            $"{afterSeconds:0.00} s = {Stats.Rate(drainRate)} deliveries/s (the backlog drain: the dispatcher's rate " +
            "with the CPU to itself; while batch ingest keeps SQLite's one write lock busy, fan-out and recording wait)");
        if (arrivals.Count < loaded.Deltas)
        {
            Report.Line($"  MISSING: {loaded.Deltas - arrivals.Count:N0} deliveries had not arrived after 180 s");
        }
        return drainRate;
    }

    /// <summary>The few webhook API calls the phase makes (the bench key's test environment).</summary>
    private sealed class EndpointsApi(HttpClient client, Uri baseUri)
    {
        public HttpClient Client { get; } = client;

        public async Task<string> CreateAsync(string url, string? events)
        {
            var body = $"{{\"url\":\"{url}\",\"enabled\":false{(events is null ? "" : $",\"events\":{events}")}}}";
            var json = await SendAsync(HttpMethod.Post, "/api/v1/webhooks/endpoints", body);
            return json.GetProperty("data").GetProperty("id").GetString()!;
        }

        public async Task SetEnabledAsync(string id, bool enabled) =>
            await SendAsync(HttpMethod.Patch, $"/api/v1/webhooks/endpoints/{id}",
                enabled ? "{\"enabled\":true}" : "{\"enabled\":false}");

        public async Task<long> CheckpointSizeAsync()
        {
            using var document = JsonDocument.Parse(await Client.GetByteArrayAsync(new Uri(baseUri, "/readyz")));
            return document.RootElement.GetProperty("checkpointSize").GetInt64();
        }

        private async Task<JsonElement> SendAsync(HttpMethod method, string path, string body)
        {
            using var request = new HttpRequestMessage(method, new Uri(baseUri, path))
            {
                Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body))
                {
                    Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
                },
            };
            using var response = await Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
            }
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
    }
}
