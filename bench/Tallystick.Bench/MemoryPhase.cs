namespace Tallystick.Bench;

/// <summary>Phase 5: ingest many deltas with batch emits; the server's RSS every second, and disk bytes per delta.</summary>
internal static class MemoryPhase
{
    public static async Task RunAsync(BenchContext bench)
    {
        var options = bench.Options;
        var total = options.MemoryDeltas ?? (options.Full ? 10_000_000 : options.Quick ? 200_000 : 2_000_000);
        var cap = TimeSpan.FromSeconds(options.Full ? 1800 : options.Quick ? 60 : 300);
        Report.Phase($"memory: ingest {total:N0} deltas over {BenchContext.Customers:N0} customers; server RSS and disk");
        var dir = ServerProcess.NewDataDirectory("memory");
        try
        {
            await using var tally = await ServerProcess.StartTallyAsync(dir);
            var startRss = ProcStats.StatusBytes(tally.Pid, "VmRSS");
            var samples = new List<long>();
            using var stop = new CancellationTokenSource();
            var sampler = SampleAsync(tally.Pid, samples, stop.Token);
            var watch = CpuWatch.Start(tally.Pid);
            var loaded = await BatchLoader.LoadAsync(tally.BaseUri, total, BenchContext.Customers, BatchPhase.Connections,
                "mem", cap, "ingest");
            var cpu = watch.Stop();
            var (waited, size) = await BenchContext.WaitAllVerifiedAsync(tally.BaseUri, TimeSpan.FromMinutes(5));
            await Task.Delay(TimeSpan.FromSeconds(1));
            await stop.CancelAsync();
            await sampler;
            var endRss = ProcStats.StatusBytes(tally.Pid, "VmRSS");
            var peak = ProcStats.StatusBytes(tally.Pid, "VmHWM");
            var runningDisk = ProcStats.DirectoryBytes(dir);
            var maxSampled = samples.Count > 0 ? samples.Max() : endRss;
            Report.Line($"ingest: {loaded.Deltas:N0} deltas in {Stats.Seconds(loaded.Elapsed)} = {Stats.Rate(loaded.PerSecond)} " +
                $"deltas/s (batches of {Bodies.BatchSize}, {BatchPhase.Connections} in flight; 503 retries " +
                $"{loaded.Retries:N0}, failed {loaded.FailedDeltas:N0}" +
                $"{(loaded.StoppedBecause is { } why ? ", " + why : "")}); all {size:N0} log entries " +
                $"VERIFIED {waited.TotalMilliseconds:N0} ms later");
            Report.Lines(cpu.Describe("tally"));
            Report.Line($"RSS: at start {Stats.MiB(startRss)}, max sampled {Stats.MiB(maxSampled)}, " +
                $"peak (VmHWM) {Stats.MiB(peak)}, at end {Stats.MiB(endRss)}");
            Report.Line("RSS every 1 s (MiB): " + Thin(samples));
            await tally.StopAsync();
            var stoppedDisk = ProcStats.DirectoryBytes(dir);
            var files = new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories)
                .OrderByDescending(f => f.Length).Select(f => $"{Path.GetRelativePath(dir, f.FullName)} {f.Length:N0}");
            var deltas = Math.Max(loaded.Deltas, 1);
            Report.Line($"disk: {runningDisk:N0} bytes while running (incl. WAL) = {runningDisk / (double)deltas:0.0} " +
                $"bytes/delta; {stoppedDisk:N0} bytes after a clean stop = {stoppedDisk / (double)deltas:0.0} bytes/delta");
            Report.Line("  files after stop: " + string.Join(", ", files));
            Report.Target("memory", $"max RSS ingesting {loaded.Deltas / 1e6:0.##}M deltas" + (options.Full ? "" : " (10M: --full)"),
                Math.Max(maxSampled, peak) / (1024.0 * 1024.0), "<", 1024, " MiB");
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(dir);
        }
    }

    private static async Task SampleAsync(int pid, List<long> samples, CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancel))
            {
                var rss = ProcStats.StatusBytes(pid, "VmRSS");
                if (rss > 0)
                {
                    samples.Add(rss);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The samples in MiB, at most about 40 of them (evenly thinned, the maximum always kept).</summary>
    private static string Thin(List<long> samples)
    {
        if (samples.Count == 0)
        {
            return "(none)";
        }
        var step = Math.Max(1, (int)Math.Ceiling(samples.Count / 40.0));
        var max = samples.IndexOf(samples.Max());
        var kept = samples.Select((value, index) => (value, index))
            .Where(p => p.index % step == 0 || p.index == max || p.index == samples.Count - 1)
            .Select(p => (p.value / (1024 * 1024)).ToString("N0"));
        return string.Join(" ", kept) + (step > 1 ? $" (every {step}th sample shown, and the maximum)" : "");
    }
}
