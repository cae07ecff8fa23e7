namespace Tallystick.Bench;

/// <summary>Phase 2: batch emits of 100 deltas, 16 requests in flight: deltas per second.</summary>
internal static class BatchPhase
{
    public const int Connections = 16;
    private const int Rounds = 3;

    public static async Task RunAsync(BenchContext bench)
    {
        var window = bench.Options.Window(5, 1);
        var warm = TimeSpan.FromSeconds(1);
        Report.Phase($"batch: batch emit, {Bodies.BatchSize} deltas per request, {Connections} requests in flight");
        var dir = ServerProcess.NewDataDirectory("batch");
        try
        {
            await using var tally = await ServerProcess.StartTallyAsync(dir);
            Report.Line($"load: {bench.Load.Description}; each batch's items go to {Bodies.BatchSize} distinct customers " +
                $"(round-robin over {BenchContext.Customers:N0}), unique referenceIds");
            Report.Line($"{Rounds} rounds of {Stats.Seconds(window)} after a {Stats.Seconds(warm)} warm-up; medians of the rounds");
            await bench.Load.RunAsync(Spec(tally, warm, "warm"));
            var runs = new List<LoadResult>();
            var cpu = new List<CpuUsage>();
            for (var round = 1; round <= Rounds; round++)
            {
                var watch = CpuWatch.Start(tally.Pid);
                runs.Add(await bench.Load.RunAsync(Spec(tally, window, $"r{round}")));
                cpu.Add(watch.Stop());
                Report.Line($"round {round}: {BenchContext.Describe(runs[^1], "deltas/s", Bodies.BatchSize)}");
            }
            var rate = Stats.Median(runs.Select(r => r.OkPerSecond * Bodies.BatchSize));
            Report.Line($"median: {Stats.Rate(rate)} deltas/s ({Stats.Rate(rate / Bodies.BatchSize)} batch requests/s), " +
                $"request latency p50 {Stats.Ms(Stats.Median(runs.Select(r => r.P50Ms)))} " +
                $"p99 {Stats.Ms(Stats.Median(runs.Select(r => r.P99Ms)))}");
            Report.Lines(CpuUsage.Merge(cpu).Describe("tally"));
            Report.Target("batch", "batch emit deltas/s (100 per request)", rate, ">=", 150_000, "");
            await tally.StopAsync();
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(dir);
        }

        static LoadSpec Spec(ServerProcess server, TimeSpan duration, string prefix) =>
            new(LoadKind.Batch, server.BaseUri, Connections, duration, prefix, BenchContext.Customers);
    }
}
