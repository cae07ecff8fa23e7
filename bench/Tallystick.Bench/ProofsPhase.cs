using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Tallystick.Notes;
using Tallystick.Proofs;
using Tallystick.Wire;

namespace Tallystick.Bench;

/// <summary>
/// Phase <c>proofs</c> (issue 3's targets): a customer with 100k deltas plus a log of N entries (1M by default,
/// 10M with --full, or --proofs-entries), then: inclusion proofs for random leaves, from the JSON endpoint and as proof
/// bundles (in-server p99 from /metrics, and client-side percentiles on loopback for a finer resolution), random full
/// hash tile reads per second, offline verification of proof bundles (the first under a checkpoint, which checks its
/// Ed25519 signature, and the following ones), and a period checkpoint over the 100k-delta customer. With
/// --proofs-data DIR the preloaded data directory is kept in DIR and later runs measure a copy of it, so a large log
/// is built once (through the same HTTP path) and servers of different commits are measured on the same data.
/// </summary>
internal static class ProofsPhase
{
    private const string InclusionRoute = "/log/proof/inclusion";
    private const string BundleRoute = "/api/v1/balance/delta/{recordId}/proof";

    public static async Task RunAsync(BenchContext bench)
    {
        var entries = bench.Options.ProofsEntries
            ?? (bench.Options.Quick ? 100_000L : bench.Options.Full ? 10_000_000L : 1_000_000L);
        var bigCustomer = bench.Options.Quick ? 20_000L : 100_000L;
        var cap = TimeSpan.FromMinutes(entries > 1_000_000 ? 60 : 5);
        var window = bench.Options.Window(10, 2);
        Report.Phase($"proofs: inclusion proofs, tile reads, bundle verification, a checkpoint over {bigCustomer:N0} " +
            $"deltas; log of ~{entries:N0} entries");
        var kept = bench.Options.ProofsData;
        var source = kept ?? ServerProcess.NewDataDirectory("proofs");
        var dir = source;
        try
        {
            if (!File.Exists(Path.Combine(source, "tallystick.db")))
            {
                Directory.CreateDirectory(source);
                await PreloadAsync(source, bigCustomer, entries, cap);
            }
            else
            {
                Report.Line($"preload: reusing the data directory {source} (a copy of it is measured)");
            }
            if (kept is not null)
            {
                dir = ServerProcess.NewDataDirectory("proofs");
                CopyDirectory(kept, dir);
            }
            await using var tally = await ServerProcess.StartTallyAsync(dir);
            var (_, size) = await BenchContext.WaitAllVerifiedAsync(tally.BaseUri, TimeSpan.FromMinutes(5));
            Report.Line($"log size {size:N0}");
            using var client = ClientLoad.NewClient(16);
            var latencyWindow = bench.Options.Window(10, 2);
            await ProofLatencyAsync(bench, tally.BaseUri, InclusionRoute, "inclusion proofs (JSON)",
                new LoadSpec(LoadKind.RandomPath, tally.BaseUri, 1, latencyWindow, InclusionRoute + "?index=", (int)size),
                size);
            // Records are numbered from 1; the preload makes one record per delta, so rec_1..rec_size exist.
            await ProofLatencyAsync(bench, tally.BaseUri, BundleRoute, "proof bundles",
                new LoadSpec(LoadKind.RandomPath, tally.BaseUri, 1, latencyWindow, "/api/v1/balance/delta/rec_", (int)size,
                    "/proof", Offset: 1), size);
            await TilesAsync(bench, tally.BaseUri, size, window);
            await BundlesAsync(client, tally.BaseUri, bench.Options.Quick ? 50 : 200);
            await CheckpointAsync(client, tally.BaseUri);
            await tally.StopAsync();
        }
        finally
        {
            if (dir != kept)
            {
                ServerProcess.DeleteDataDirectory(dir);
            }
        }
    }

    private static async Task PreloadAsync(string dir, long bigCustomer, long entries, TimeSpan cap)
    {
        await using var tally = await ServerProcess.StartTallyAsync(dir);
        var big = await BatchLoader.LoadAsync(tally.BaseUri, bigCustomer, 1, BatchPhase.Connections, "big", cap, "big");
        var loaded = await BatchLoader.LoadAsync(tally.BaseUri, entries, BenchContext.Customers, BatchPhase.Connections,
            "log", cap, "log");
        var (_, size) = await BenchContext.WaitAllVerifiedAsync(tally.BaseUri, TimeSpan.FromMinutes(10));
        Report.Line($"preload: {big.Deltas:N0} deltas for cust_0 in batches of 100 (one record each), then " +
            $"{loaded.Deltas:N0} deltas over {BenchContext.Customers:N0} customers in {Stats.Seconds(loaded.Elapsed)} " +
            $"({Stats.Rate(loaded.PerSecond)}/s){(loaded.StoppedBecause is { } why ? ", " + why : "")}; log size {size:N0}");
        await tally.StopAsync();
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
    }

    // One connection, closed loop, random leaves (or records), from the bench's load generator (wrk when installed: a
    // .NET client sharing the 2 cores preempts the server and shows up in its latencies), after a 2 s warm-up so the
    // server's tiered JIT has compiled the route at tier 1 and the upper tiles are cached. The server's own histogram
    // gives the in-server p50/p99 (bucket bounds); the client's percentiles include loopback and HTTP parsing.
    private static async Task ProofLatencyAsync(BenchContext bench, Uri baseUri, string route, string what,
        LoadSpec spec, long size)
    {
        await bench.Load.RunAsync(spec with { Duration = TimeSpan.FromSeconds(2) });
        var before = await ServerHistogram.ReadAsync(baseUri, "GET", route);
        var run = await bench.Load.RunAsync(spec);
        var inServer = (await ServerHistogram.ReadAsync(baseUri, "GET", route)).Since(before);
        Report.Line($"{what} at size {size:N0}: {inServer.Count:N0} random ones over 1 connection in " +
            $"{Stats.Seconds(TimeSpan.FromSeconds(run.Seconds))} ({run.Failed:N0} failed); in the server " +
            $"p50 <= {Stats.Ms(inServer.PercentileUpperMs(0.5))}, p99 <= {Stats.Ms(inServer.PercentileUpperMs(0.99))}; " +
            $"client-side p50 {Stats.Ms(run.P50Ms)}, p90 {Stats.Ms(run.P90Ms)}, p99 {Stats.Ms(run.P99Ms)}");
        Report.Target("proofs", $"{what} p99 in the server (log of {size:N0})", inServer.PercentileUpperMs(0.99),
            "<=", 1, " ms", "0.00");
    }

    // Closed loop of 16 connections from the bench's load generator (wrk when installed), random full level-0 tiles:
    // a log of 1M entries has 3,906 of them, which all fit in the server's tile cache; at 10M most reads miss it and
    // come from the flat tile files (filled by the server within seconds of its start, during the latency runs).
    private static async Task TilesAsync(BenchContext bench, Uri baseUri, long size, TimeSpan window)
    {
        var fullTiles = size / 256;
        if (fullTiles == 0)
        {
            Report.Line("tile reads: no full tile yet");
            return;
        }
        var spec = new LoadSpec(LoadKind.Tiles, baseUri, 16, TimeSpan.FromSeconds(2), "", (int)fullTiles);
        await bench.Load.RunAsync(spec);
        var run = await bench.Load.RunAsync(spec with { Duration = window });
        Report.Line($"tile reads: random full level-0 tiles of {fullTiles:N0}, {bench.Load.Description}, 16 connections, " +
            $"{Stats.Seconds(TimeSpan.FromSeconds(run.Seconds))}: {Stats.Rate(run.OkPerSecond)} tiles/s ({run.Failed:N0} failed" +
            $"{(run.FailureDetail.Length > 0 ? ": " + run.FailureDetail : "")}); p50 {Stats.Ms(run.P50Ms)}, " +
            $"p99 {Stats.Ms(run.P99Ms)}");
        Report.Target("proofs", $"full tile reads per second (log of {size:N0})", run.OkPerSecond, ">=", 20_000, " /s", "N0");
    }

    private static async Task BundlesAsync(HttpClient client, Uri baseUri, int count)
    {
        var vkey = (await client.GetStringAsync(new Uri(baseUri, "/log/key"))).Trim();
        var bundles = new List<ProofBundle>();
        for (var record = 1; bundles.Count < count; record += 997)
        {
            var json = await client.GetByteArrayAsync(new Uri(baseUri, $"/api/v1/balance/delta/rec_{record}/proof"));
            bundles.Add(JsonSerializer.Deserialize(json, WireJson.Default.EnvelopeProofBundle)!.Data!);
        }
        // Cold: a key seen for the first time, so the checkpoint's Ed25519 signature is checked. Warm: the same key
        // again, so only the ledger and Merkle steps run (the usual case: many bundles under one checkpoint).
        var cold = new List<double>();
        var warm = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            foreach (var bundle in bundles)
            {
                var key = NoteVerifier.Parse(vkey);
                var start = Stopwatch.GetTimestamp();
                var first = ProofBundleVerifier.Verify(bundle, key);
                cold.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                start = Stopwatch.GetTimestamp();
                var second = ProofBundleVerifier.Verify(bundle, key);
                warm.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                if (!first.IsValid || !second.IsValid)
                {
                    throw new InvalidOperationException($"bundle {bundle.RecordId} did not verify: {first.Error ?? second.Error}");
                }
            }
        }
        cold.Sort();
        warm.Sort();
        Report.Line($"offline bundle verification ({bundles.Count} bundles x 5 rounds, in this process): first under a " +
            $"checkpoint (signature checked) median {Stats.Percentile(cold, 50):N1} us, p99 {Stats.Percentile(cold, 99):N1} us; " +
            $"next ones median {Stats.Percentile(warm, 50):N1} us, p99 {Stats.Percentile(warm, 99):N1} us");
        Report.Target("proofs", "offline bundle verification, signature checked (median)", Stats.Percentile(cold, 50),
            "<=", 100, " us", "N1");
        Report.Target("proofs", "offline bundle verification, checkpoint already verified (median)",
            Stats.Percentile(warm, 50), "<=", 100, " us", "N1");
    }

    private static async Task CheckpointAsync(HttpClient client, Uri baseUri)
    {
        var clock = Stopwatch.StartNew();
        using var content = new StringContent("{\"customerId\":\"cust_0\"}", Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, "/api/v1/balance/checkpoint")) { Content = content };
        using var response = await client.SendAsync(request);
        var elapsed = clock.Elapsed;
        var body = await response.Content.ReadAsByteArrayAsync();
        response.EnsureSuccessStatusCode();
        var checkpoint = JsonSerializer.Deserialize(body, WireJson.Default.EnvelopePeriodCheckpointResult)!.Data!;
        Report.Line($"period checkpoint over cust_0: {checkpoint.DeltaCount:N0} deltas in {Stats.Ms(elapsed.TotalMilliseconds)} " +
            "(one request, client-side, including the root over all item hashes and the anchoring transaction)");
        Report.Target("proofs", $"checkpoint over {checkpoint.DeltaCount:N0} deltas", elapsed.TotalMilliseconds, "<=", 1000,
            " ms", "N0");
    }
}
