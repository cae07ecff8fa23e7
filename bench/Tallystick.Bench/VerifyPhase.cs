namespace Tallystick.Bench;

/// <summary>Phase 3: emit → VERIFIED latency of sampled emits, under the single-emit load of phase 1.</summary>
internal static class VerifyPhase
{
    private const int SampleOneIn = 50;

    public static async Task RunAsync(BenchContext bench)
    {
        var window = bench.Options.Window(15, 3);
        var warm = TimeSpan.FromSeconds(2);
        Report.Phase($"verify: emit -> VERIFIED latency under single-emit load ({HttpPhase.Connections} connections)");
        var dir = ServerProcess.NewDataDirectory("verify");
        try
        {
            await using var tally = await ServerProcess.StartTallyAsync(dir);
            var warmup = await bench.Load.RunAsync(Spec(tally, warm, "warm"));
            var interval = TimeSpan.FromSeconds(Math.Clamp(SampleOneIn / Math.Max(warmup.OkPerSecond, 1), 0.002, 0.25));
            Report.Line($"main load: {bench.Load.Description}, as in phase http, for {Stats.Seconds(window)} " +
                $"(warm-up {Stats.Seconds(warm)}: {Stats.Rate(warmup.OkPerSecond)} emits/s)");
            Report.Line($"samples: one extra emit every {interval.TotalMilliseconds:0.0} ms (~1 in {SampleOneIn} of the " +
                $"warm-up rate), each polled with GET /delta/{{recordId}} every {VerifyProbes.PollInterval.TotalMilliseconds:0} ms " +
                "until VERIFIED");
            var watch = CpuWatch.Start(tally.Pid);
            var main = bench.Load.RunAsync(Spec(tally, window, "main"));
            var probes = await VerifyProbes.RunAsync(tally.BaseUri, window - TimeSpan.FromMilliseconds(500), interval,
                BenchContext.Customers, "probe");
            var load = await main;
            var cpu = watch.Stop();
            // A sample never seen VERIFIED counts as 10 s (the give-up time), so it weighs on the percentiles.
            var upper = probes.Samples.Select(s => s.ToVerifiedMs)
                .Concat(Enumerable.Repeat(10_000.0, probes.NeverVerified)).Order().ToList();
            var lower = probes.Samples.Select(s => s.LowerBoundMs).Order().ToList();
            var emits = probes.Samples.Select(s => s.EmitMs).Order().ToList();
            Report.Line($"main load: {BenchContext.Describe(load, "emits/s")}");
            Report.Line($"sampled {probes.Samples.Count:N0} emits of {load.Requests + probes.Launched:N0} " +
                $"(1 in {(double)(load.Requests + probes.Launched) / Math.Max(probes.Launched, 1):0}); " +
                $"failed emits {probes.FailedEmits}, not VERIFIED within 10 s {probes.NeverVerified}; " +
                $"polls per sample {probes.Samples.Select(s => s.Polls).DefaultIfEmpty(0).Average():0.0}");
            Report.Line($"emit answered -> VERIFIED seen: p50 {Stats.Ms(Stats.Percentile(upper, 50))} " +
                $"p90 {Stats.Ms(Stats.Percentile(upper, 90))} p99 {Stats.Ms(Stats.Percentile(upper, 99))} " +
                $"max {Stats.Ms(upper.Count > 0 ? upper[^1] : 0)}");
            Report.Line($"  lower bound (last non-VERIFIED poll sent): p50 {Stats.Ms(Stats.Percentile(lower, 50))} " +
                $"p99 {Stats.Ms(Stats.Percentile(lower, 99))}; status GET latency p50 " +
                $"{Stats.Ms(Stats.Percentile(probes.PollMs, 50))} p99 {Stats.Ms(Stats.Percentile(probes.PollMs, 99))}");
            Report.Line($"  sampled emits' own latency: p50 {Stats.Ms(Stats.Percentile(emits, 50))} " +
                $"p99 {Stats.Ms(Stats.Percentile(emits, 99))}");
            Report.Lines(cpu.Describe("tally"));
            if (upper.Count == 0)
            {
                throw new InvalidOperationException("no sampled emit became VERIFIED");
            }
            Report.Target("verify", "emit -> VERIFIED p50", Stats.Percentile(upper, 50), "<=", 50, " ms", "0.0");
            Report.Target("verify", "emit -> VERIFIED p99", Stats.Percentile(upper, 99), "<=", 250, " ms", "0.0");
            await tally.StopAsync();
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(dir);
        }

        static LoadSpec Spec(ServerProcess server, TimeSpan duration, string prefix) =>
            new(LoadKind.Emit, server.BaseUri, HttpPhase.Connections, duration, prefix, BenchContext.Customers);
    }
}
