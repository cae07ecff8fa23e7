using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;
using Tallystick.Bench;

// Usage: dotnet run -c Release --project bench/Tallystick.Bench -- [http] [batch] [verify] [derive] [scoped]
//        [compare] [proofs] [webhooks] [memory]
//        [--quick | --full] [--no-wrk] [--seconds N] [--memory-deltas N] [--derive-deltas N]
// See bench/README.md. The same executable hosts the servers under test (--serve-tally / --serve-bare).
if (ChildHost.IsChildMode(args))
{
    return await ChildHost.RunAsync(args);
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

using var wrk = options.NoWrk ? null : WrkLoad.TryCreate();
ILoadGenerator load = wrk is null ? new ClientLoad() : wrk;
var bench = new BenchContext(options, load);

Console.WriteLine($"Tallystick bench, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z");
Console.WriteLine("command: dotnet run -c Release --project bench/Tallystick.Bench --" +
    (args.Length > 0 ? " " + string.Join(' ', args) : ""));
Console.WriteLine($"process: {Environment.ProcessPath} {string.Join(' ', args)}".TrimEnd());
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, " +
    $".NET {Environment.Version}, load average {ProcStats.LoadAverage()}");
Console.WriteLine($"servers: child processes of this bench on 127.0.0.1 (GC: " +
    $"{(GCSettings.IsServerGC ? "server" : "workstation")}" +
    $"{(GCSettings.LatencyMode == GCLatencyMode.Interactive ? ", concurrent" : "")}; as `tally serve`)");
Console.WriteLine($"load generator: {load.Description}" +
    (wrk is null && !options.NoWrk ? " (install wrk for lighter load generation: bench/run.sh does)" : ""));
Console.WriteLine($"git: {GitDescription()}");
Console.WriteLine($"mode: {(options.Quick ? "--quick (smoke check: short windows, small loads)" : options.Full ? "--full" : "default")}; " +
    $"phases: {string.Join(' ', options.Phases)}");

var clock = Stopwatch.StartNew();
foreach (var phase in options.Phases)
{
    var phaseClock = Stopwatch.StartNew();
    try
    {
        await (phase switch
        {
            "http" => HttpPhase.RunAsync(bench),
            "batch" => BatchPhase.RunAsync(bench),
            "verify" => VerifyPhase.RunAsync(bench),
            "derive" => DerivePhase.RunAsync(bench),
            "scoped" => ReconcilePhase.RunAsync(bench, scoped: true),
            "compare" => ReconcilePhase.RunAsync(bench, scoped: false),
            "proofs" => ProofsPhase.RunAsync(bench),
            "webhooks" => WebhookPhase.RunAsync(bench),
            _ => MemoryPhase.RunAsync(bench),
        });
    }
    catch (Exception e)
    {
        // A failed phase is reported (and fails the run) but does not hide the figures of the others.
        Report.PhaseFailed(phase, e);
    }
    Report.Line($"(phase {phase} took {Stats.Seconds(phaseClock.Elapsed)}; load average now {ProcStats.LoadAverage()})");
}
Report.Summary(clock.Elapsed);
return Report.AnyPhaseFailed ? 1 : 0;

static string GitDescription()
{
    try
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Tallystick.slnx")))
        {
            directory = directory.Parent;
        }
        if (directory is null)
        {
            return "unknown";
        }
        var head = Run(directory.FullName, "rev-parse --short HEAD");
        var dirty = Run(directory.FullName, "status --porcelain --untracked-files=no").Length > 0;
        return head.Length == 0 ? "unknown" : head + (dirty ? " (working tree has uncommitted changes)" : "");
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return "unknown (no git)";
    }

    static string Run(string directory, string arguments)
    {
        var start = new ProcessStartInfo("git", $"-C \"{directory}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : "";
    }
}
