using System.Globalization;

namespace Tallystick.Bench;

/// <summary>Command-line settings of one bench run.</summary>
internal sealed class BenchOptions
{
    public static readonly string[] AllPhases = ["http", "batch", "verify", "derive", "scoped", "compare", "proofs", "webhooks", "memory"];

    public List<string> Phases { get; } = [];

    public bool Quick { get; private set; }

    public bool Full { get; private set; }

    /// <summary>Force the built-in HttpClient load generator even when wrk is installed.</summary>
    public bool NoWrk { get; private set; }

    /// <summary>Overrides the length of every measured window, in seconds.</summary>
    public double? Seconds { get; private set; }

    /// <summary>Overrides the memory phase's delta count.</summary>
    public long? MemoryDeltas { get; private set; }

    /// <summary>Overrides the derive phase's preload count.</summary>
    public long? DeriveDeltas { get; private set; }

    /// <summary>Overrides the proofs phase's log size (entries beyond the big customer's).</summary>
    public long? ProofsEntries { get; private set; }

    /// <summary>A data directory the proofs phase preloads once and keeps; later runs measure a copy of it.</summary>
    public string? ProofsData { get; private set; }

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "--quick": options.Quick = true; break;
                case "--full": options.Full = true; break;
                case "--no-wrk": options.NoWrk = true; break;
                case "--seconds": options.Seconds = Number(args, ++i, arg); break;
                case "--memory-deltas": options.MemoryDeltas = (long)Number(args, ++i, arg); break;
                case "--derive-deltas": options.DeriveDeltas = (long)Number(args, ++i, arg); break;
                case "--proofs-entries": options.ProofsEntries = (long)Number(args, ++i, arg); break;
                case "--proofs-data":
                    options.ProofsData = ++i < args.Count
                        ? Path.GetFullPath(args[i])
                        : throw new ArgumentException("--proofs-data needs a directory");
                    break;
                case "all": options.Phases.AddRange(AllPhases); break;
                default:
                    if (Array.IndexOf(AllPhases, arg) < 0)
                    {
                        throw new ArgumentException($"unknown argument '{arg}'; phases: {string.Join(' ', AllPhases)}; " +
                            "flags: --quick --full --no-wrk --seconds N --memory-deltas N --derive-deltas N --proofs-entries N " +
                            "--proofs-data DIR");
                    }
                    options.Phases.Add(arg);
                    break;
            }
        }
        if (options.Phases.Count == 0)
        {
            options.Phases.AddRange(AllPhases);
        }
        if (options.Quick && options.Full)
        {
            throw new ArgumentException("--quick and --full exclude each other");
        }
        return options;
    }

    /// <summary>The length of a measured window: <paramref name="normal"/> s, or <paramref name="quick"/> s with --quick.</summary>
    public TimeSpan Window(double normal, double quick) =>
        TimeSpan.FromSeconds(Seconds ?? (Quick ? quick : normal));

    /// <summary>A warm-up length (not changed by --seconds).</summary>
    public TimeSpan Warmup(double normal, double quick) => TimeSpan.FromSeconds(Quick ? quick : normal);

    private static double Number(IReadOnlyList<string> args, int index, string name) =>
        index < args.Count && double.TryParse(args[index], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && value > 0
            ? value
            : throw new ArgumentException($"{name} needs a positive number");
}
