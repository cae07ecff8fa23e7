namespace Tallystick.Bench;

/// <summary>CPU used by a server process (per thread name) and by the whole machine over some window(s).</summary>
internal sealed record CpuUsage(double WallSeconds, double ServerSeconds, double LoadSeconds,
    IReadOnlyDictionary<string, (int Threads, double Seconds)> ByThreadName, MachineCpu Machine)
{
    public static CpuUsage Merge(IReadOnlyCollection<CpuUsage> usages)
    {
        var names = new Dictionary<string, (int Threads, double Seconds)>(StringComparer.Ordinal);
        var machine = default(MachineCpu);
        foreach (var usage in usages)
        {
            machine = machine.Plus(usage.Machine);
            foreach (var (name, (threads, seconds)) in usage.ByThreadName)
            {
                var old = names.GetValueOrDefault(name);
                names[name] = (Math.Max(old.Threads, threads), old.Seconds + seconds);
            }
        }
        return new CpuUsage(usages.Sum(u => u.WallSeconds), usages.Sum(u => u.ServerSeconds),
            usages.Sum(u => u.LoadSeconds), names, machine);
    }

    /// <summary>"tally server CPU 1.31 cores [.NET TP Worker x12 0.82, ...]; machine busy ...".</summary>
    public string Describe(string server, int top = 6)
    {
        var wall = Math.Max(WallSeconds, 1e-9);
        var threads = ByThreadName.OrderByDescending(p => p.Value.Seconds).Take(top)
            .Select(p => FormattableString.Invariant(
                $"{p.Key}{(p.Value.Threads > 1 ? $" x{p.Value.Threads}" : "")} {p.Value.Seconds / wall:0.00}"));
        return FormattableString.Invariant($"{server} server CPU {ServerSeconds / wall:0.00} cores [") +
            string.Join(", ", threads) + "]; " + Machine.Describe(wall, server, ServerSeconds, LoadSeconds);
    }
}

/// <summary>Snapshots /proc before and after a measured window.</summary>
internal sealed class CpuWatch
{
    private readonly int _pid;
    private readonly Dictionary<int, (string Name, double Seconds)> _threads;
    private readonly double _process;
    private readonly double _load;
    private readonly MachineCpu _machine;
    private readonly long _start;

    private CpuWatch(int pid)
    {
        _pid = pid;
        _start = System.Diagnostics.Stopwatch.GetTimestamp();
        _threads = ProcStats.Threads(pid);
        _process = ProcStats.ProcessSeconds(pid);
        _load = ProcStats.LoadGeneratorSeconds();
        _machine = ProcStats.Machine();
    }

    public static CpuWatch Start(int pid) => new(pid);

    public CpuUsage Stop()
    {
        var machine = ProcStats.Machine().Minus(_machine);
        var process = ProcStats.ProcessSeconds(_pid) - _process;
        var load = ProcStats.LoadGeneratorSeconds() - _load;
        var threads = ProcStats.Threads(_pid);
        var wall = System.Diagnostics.Stopwatch.GetElapsedTime(_start).TotalSeconds;
        var names = new Dictionary<string, (int Threads, double Seconds)>(StringComparer.Ordinal);
        foreach (var (tid, (name, seconds)) in threads)
        {
            var used = seconds - (_threads.TryGetValue(tid, out var old) ? old.Seconds : 0);
            if (used > 0)
            {
                var group = names.GetValueOrDefault(name);
                names[name] = (group.Threads + 1, group.Seconds + used);
            }
        }
        return new CpuUsage(wall, process, load, names, machine);
    }
}
