namespace Tallystick.Bench;

/// <summary>Phase 1: single emits over HTTP, Tallystick versus a bare ASP.NET Core endpoint, side by side.</summary>
internal static class HttpPhase
{
    public const int Connections = 64;
    private const int Rounds = 3;

    public static async Task RunAsync(BenchContext bench)
    {
        var window = bench.Options.Window(3, 1);
        var warm = bench.Options.Warmup(2, 1);
        Report.Phase($"http: single emit, {Connections} connections, Tallystick vs a bare ASP.NET Core endpoint");
        var dir = ServerProcess.NewDataDirectory("http");
        try
        {
            await using var tally = await ServerProcess.StartTallyAsync(dir);
            await using var bare = await ServerProcess.StartBareAsync();
            Report.Line($"load: {bench.Load.Description}; {Connections} connections; each emit a distinct customer " +
                $"(round-robin over {BenchContext.Customers:N0}) and a unique referenceId");
            Report.Line($"{Rounds} alternating rounds of {Stats.Seconds(window)} per side after a {Stats.Seconds(warm)} " +
                "warm-up of each; summary figures are medians of the rounds");
            await bench.Load.RunAsync(Spec(bare, warm, "warm"));
            await bench.Load.RunAsync(Spec(tally, warm, "warm"));
            var bareRuns = new List<LoadResult>();
            var tallyRuns = new List<LoadResult>();
            var bareCpu = new List<CpuUsage>();
            var tallyCpu = new List<CpuUsage>();
            for (var round = 1; round <= Rounds; round++)
            {
                ServerProcess[] order = round % 2 == 1 ? [bare, tally] : [tally, bare];
                foreach (var server in order)
                {
                    var watch = CpuWatch.Start(server.Pid);
                    var result = await bench.Load.RunAsync(Spec(server, window, $"r{round}"));
                    var usage = watch.Stop();
                    (server == tally ? tallyRuns : bareRuns).Add(result);
                    (server == tally ? tallyCpu : bareCpu).Add(usage);
                }
                Report.Line($"round {round} ({order[0].Name} first): bare {BenchContext.Describe(bareRuns[^1])}");
                Report.Line($"        tally {BenchContext.Describe(tallyRuns[^1])}");
                Report.Line($"        ratio tally/bare {tallyRuns[^1].OkPerSecond / bareRuns[^1].OkPerSecond * 100:0.0} %");
            }
            var bareRate = Stats.Median(bareRuns.Select(r => r.OkPerSecond));
            var tallyRate = Stats.Median(tallyRuns.Select(r => r.OkPerSecond));
            var ratio = tallyRate / bareRate * 100;
            var p50 = Stats.Median(tallyRuns.Select(r => r.P50Ms));
            var p99 = Stats.Median(tallyRuns.Select(r => r.P99Ms));
            Report.Line($"median bare : {Stats.Rate(bareRate)} req/s, p50 {Stats.Ms(Stats.Median(bareRuns.Select(r => r.P50Ms)))}" +
                $" p99 {Stats.Ms(Stats.Median(bareRuns.Select(r => r.P99Ms)))}");
            Report.Line($"median tally: {Stats.Rate(tallyRate)} req/s, p50 {Stats.Ms(p50)} p99 {Stats.Ms(p99)}");
            Report.Line($"ratio of medians tally/bare: {ratio:0.0} % (per round: " +
                string.Join(", ", tallyRuns.Zip(bareRuns, (t, b) => $"{t.OkPerSecond / b.OkPerSecond * 100:0.0} %")) + ")");
            Report.Lines(CpuUsage.Merge(tallyCpu).Describe("tally"));
            Report.Lines(CpuUsage.Merge(bareCpu).Describe("bare"));
            Report.Target("http", "single emit req/s, tally / bare", ratio, ">=", 40, " %", "0.0");
            Report.Target("http", "single emit p99 latency (64 connections)", p99, "<=", 10, " ms", "0.00");
            await tally.StopAsync();
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(dir);
        }

        static LoadSpec Spec(ServerProcess server, TimeSpan duration, string prefix) =>
            new(LoadKind.Emit, server.BaseUri, Connections, duration, prefix, BenchContext.Customers);
    }
}
