using System.Globalization;

namespace Tallystick.Bench;

/// <summary>Readers for /proc: resident memory, CPU time per thread, machine-wide CPU, directory sizes.</summary>
internal static class ProcStats
{
    /// <summary>Clock ticks per second of /proc CPU times (USER_HZ; 100 on every Linux build that matters).</summary>
    private const double TicksPerSecond = 100.0;

    /// <summary>A field of /proc/PID/status in bytes (VmRSS, VmHWM), or -1 when unreadable.</summary>
    public static long StatusBytes(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    var parts = line[(field.Length + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return -1;
    }

    /// <summary>
    /// Per thread of <paramref name="pid"/>, keyed by thread id: its name, CPU seconds (user + system) and the
    /// seconds it spent runnable but waiting for a CPU (schedstat run-queue time: the cost of a busy machine).
    /// </summary>
    public static Dictionary<int, ThreadTimes> Threads(int pid)
    {
        var result = new Dictionary<int, ThreadTimes>();
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (IOException)
        {
            return result;
        }
        foreach (var task in tasks)
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                if (ParseStat(stat) is { } parsed)
                {
                    var wait = 0.0;
                    var schedstat = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                    if (schedstat.Length >= 2 && long.TryParse(schedstat[1], CultureInfo.InvariantCulture, out var ns))
                    {
                        wait = ns / 1e9;
                    }
                    result[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] =
                        new ThreadTimes(parsed.Name, parsed.Seconds, wait);
                }
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }
        return result;
    }

    /// <summary>CPU seconds (user + system) of a whole process, or -1.</summary>
    public static double ProcessSeconds(int pid)
    {
        try
        {
            return ParseStat(File.ReadAllText($"/proc/{pid}/stat"))?.Seconds ?? -1;
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>
    /// CPU seconds of this bench process plus its reaped children (wrk runs): the load generator's CPU. Servers are
    /// children too, but they are reaped only when they stop, outside the measured windows.
    /// </summary>
    public static double LoadGeneratorSeconds()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime, stime, cutime, cstime are fields 14-17: fields[11..14].
            return fields.Skip(11).Take(4).Sum(f => long.Parse(f, CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>Machine-wide CPU counters from /proc/stat: busy, iowait, steal and total jiffies.</summary>
    public static MachineCpu Machine()
    {
        try
        {
            var first = File.ReadLines("/proc/stat").First();
            var values = first.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal ...
            long total = values.Take(8).Sum(), idle = values[3], iowait = values[4], steal = values.Length > 7 ? values[7] : 0;
            return new MachineCpu(total - idle - iowait - steal, iowait, steal, total);
        }
        catch (IOException)
        {
            return new MachineCpu(0, 0, 0, 0);
        }
    }

    /// <summary>Total size in bytes of the files under <paramref name="directory"/>.</summary>
    public static long DirectoryBytes(string directory) =>
        Directory.Exists(directory)
            ? new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : 0;

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static (string Name, double Seconds)? ParseStat(string stat)
    {
        // pid (comm) state ppid ... field 14 utime, 15 stime; comm may contain spaces and parentheses.
        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return null;
        }
        var name = stat[(open + 1)..close];
        var fields = stat[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14 -> fields[11], stime field 15 -> fields[12].
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (name, ticks / TicksPerSecond);
    }
}

/// <summary>One thread's name, CPU seconds and run-queue wait seconds.</summary>
internal readonly record struct ThreadTimes(string Name, double CpuSeconds, double WaitSeconds);

/// <summary>Machine CPU jiffies summed over all cores: at one instant, or the difference of two instants.</summary>
internal readonly record struct MachineCpu(long Busy, long IoWait, long Steal, long Total)
{
    public MachineCpu Minus(MachineCpu start) =>
        new(Busy - start.Busy, IoWait - start.IoWait, Steal - start.Steal, Total - start.Total);

    public MachineCpu Plus(MachineCpu other) =>
        new(Busy + other.Busy, IoWait + other.IoWait, Steal + other.Steal, Total + other.Total);

    /// <summary>
    /// Describes a difference over <paramref name="wallSeconds"/>: machine busy cores, split into the server, the load
    /// generator and everything else (other processes on this shared machine).
    /// </summary>
    public string Describe(double wallSeconds, string server, double serverSeconds, double loadSeconds)
    {
        if (Total <= 0 || wallSeconds <= 0)
        {
            return "machine CPU n/a";
        }
        var cores = Environment.ProcessorCount;
        var total = Total;
        double Share(long value) => (double)value / total * cores;
        var busy = Share(Busy);
        var serverCores = serverSeconds / wallSeconds;
        var loadCores = loadSeconds / wallSeconds;
        return FormattableString.Invariant(
            $"machine busy {busy:0.00} of {cores} cores = {server} {serverCores:0.00} + load generator {loadCores:0.00} + ") +
            FormattableString.Invariant(
            $"other processes {Math.Max(0, busy - serverCores - loadCores):0.00} (iowait {Share(IoWait):0.00}, steal {Share(Steal):0.00})");
    }
}
