using System.Diagnostics;

namespace Tallystick.Bench;

/// <summary>Threads of one name: how many, CPU seconds used, seconds spent waiting for a CPU.</summary>
internal readonly record struct ThreadGroup(int Threads, double CpuSeconds, double WaitSeconds);

/// <summary>States of one thread sampled every 2 ms: R (running or runnable), D (disk wait), S (sleeping), other.</summary>
internal readonly record struct StateCounts(int Running, int Disk, int Sleeping, int Other)
{
    public int Total => Running + Disk + Sleeping + Other;

    public StateCounts Plus(StateCounts o) => new(Running + o.Running, Disk + o.Disk, Sleeping + o.Sleeping, Other + o.Other);
}

/// <summary>CPU used by a server process (per thread name) and by the whole machine over one or more windows.</summary>
internal sealed record CpuUsage(double WallSeconds, double ServerSeconds, double LoadSeconds,
    IReadOnlyDictionary<string, ThreadGroup> ByThreadName, MachineCpu Machine, StateCounts Sequencer)
{
    public const string SequencerThread = "tally-sequencer";

    public static CpuUsage Merge(IReadOnlyCollection<CpuUsage> usages)
    {
        var names = new Dictionary<string, ThreadGroup>(StringComparer.Ordinal);
        var machine = default(MachineCpu);
        var states = default(StateCounts);
        foreach (var usage in usages)
        {
            machine = machine.Plus(usage.Machine);
            states = states.Plus(usage.Sequencer);
            foreach (var (name, group) in usage.ByThreadName)
            {
                var old = names.GetValueOrDefault(name);
                names[name] = new ThreadGroup(Math.Max(old.Threads, group.Threads), old.CpuSeconds + group.CpuSeconds,
                    old.WaitSeconds + group.WaitSeconds);
            }
        }
        return new CpuUsage(usages.Sum(u => u.WallSeconds), usages.Sum(u => u.ServerSeconds),
            usages.Sum(u => u.LoadSeconds), names, machine, states);
    }

    /// <summary>Where the server's time went: CPU by thread, run-queue waits, the sequencer's states, the machine.</summary>
    public IEnumerable<string> Describe(string server, int top = 6)
    {
        var wall = Math.Max(WallSeconds, 1e-9);
        string Groups(Func<ThreadGroup, double> value) => string.Join(", ", ByThreadName
            .Where(p => value(p.Value) / wall >= 0.005).OrderByDescending(p => value(p.Value)).Take(top)
            .Select(p => FormattableString.Invariant(
                $"{p.Key}{(p.Value.Threads > 1 ? $" x{p.Value.Threads}" : "")} {value(p.Value) / wall:0.00}")));
        var waited = ByThreadName.Values.Sum(g => g.WaitSeconds) / wall;
        yield return FormattableString.Invariant($"{server} server CPU {ServerSeconds / wall:0.00} cores [") +
            Groups(g => g.CpuSeconds) + "]";
        yield return FormattableString.Invariant(
            $"  its threads waited for a CPU (run queue) {waited:0.00} thread-seconds per second [") +
            Groups(g => g.WaitSeconds) + "]";
        if (ByThreadName.TryGetValue(SequencerThread, out var sequencer))
        {
            var line = FormattableString.Invariant(
                $"  {SequencerThread}: on CPU {sequencer.CpuSeconds / wall:P0}, waiting for a CPU {sequencer.WaitSeconds / wall:P0}");
            if (Sequencer.Total > 0)
            {
                double Share(int count) => (double)count / Sequencer.Total;
                line += FormattableString.Invariant(
                    $"; sampled every 2 ms: R (running/runnable) {Share(Sequencer.Running):P0}, ") +
                    FormattableString.Invariant(
                    $"D (disk/fsync) {Share(Sequencer.Disk):P0}, S (sleeping: no work or a lock) {Share(Sequencer.Sleeping):P0}");
            }
            yield return line;
        }
        yield return "  " + Machine.Describe(wall, server, ServerSeconds, LoadSeconds);
    }
}

/// <summary>Snapshots /proc before and after a measured window (and samples the sequencer thread's state).</summary>
internal sealed class CpuWatch
{
    private readonly int _pid;
    private readonly Dictionary<int, ThreadTimes> _threads;
    private readonly double _process;
    private readonly double _load;
    private readonly MachineCpu _machine;
    private readonly long _start;
    private readonly Thread? _sampler;
    private volatile bool _stopping;
    private StateCounts _states;

    private CpuWatch(int pid)
    {
        _pid = pid;
        _start = Stopwatch.GetTimestamp();
        _threads = ProcStats.Threads(pid);
        _process = ProcStats.ProcessSeconds(pid);
        _load = ProcStats.LoadGeneratorSeconds();
        _machine = ProcStats.Machine();
        var sequencer = _threads.FirstOrDefault(t => t.Value.Name == CpuUsage.SequencerThread).Key;
        if (sequencer != 0)
        {
            _sampler = new Thread(() => Sample($"/proc/{pid}/task/{sequencer}/stat"))
            {
                IsBackground = true,
                Name = "bench-sampler",
            };
            _sampler.Start();
        }
    }

    public static CpuWatch Start(int pid) => new(pid);

    public CpuUsage Stop()
    {
        var machine = ProcStats.Machine().Minus(_machine);
        var process = ProcStats.ProcessSeconds(_pid) - _process;
        var load = ProcStats.LoadGeneratorSeconds() - _load;
        var threads = ProcStats.Threads(_pid);
        var wall = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        _stopping = true;
        _sampler?.Join();
        var names = new Dictionary<string, ThreadGroup>(StringComparer.Ordinal);
        foreach (var (tid, now) in threads)
        {
            var old = _threads.GetValueOrDefault(tid);
            var cpu = now.CpuSeconds - old.CpuSeconds;
            var wait = now.WaitSeconds - old.WaitSeconds;
            if (cpu > 0 || wait > 0)
            {
                var group = names.GetValueOrDefault(now.Name);
                names[now.Name] = new ThreadGroup(group.Threads + 1, group.CpuSeconds + cpu, group.WaitSeconds + wait);
            }
        }
        return new CpuUsage(wall, process, load, names, machine, _states);
    }

    private void Sample(string path)
    {
        int running = 0, disk = 0, sleeping = 0, other = 0;
        var buffer = new byte[512];
        while (!_stopping)
        {
            try
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
                var length = file.Read(buffer);
                var close = Array.LastIndexOf(buffer, (byte)')', Math.Max(length - 1, 0));
                var state = close >= 0 && close + 2 < length ? (char)buffer[close + 2] : '?';
                switch (state)
                {
                    case 'R': running++; break;
                    case 'D': disk++; break;
                    case 'S': sleeping++; break;
                    default: other++; break;
                }
            }
            catch (IOException)
            {
                break;
            }
            Thread.Sleep(2);
        }
        _states = new StateCounts(running, disk, sleeping, other);
    }
}
