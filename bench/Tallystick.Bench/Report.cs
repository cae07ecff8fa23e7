using System.Globalization;

namespace Tallystick.Bench;

/// <summary>A performance target of the issue and what this run measured for it.</summary>
internal sealed record TargetCheck(string Phase, string Figure, string Measured, string Goal, bool Met);

/// <summary>Plain-text output: phase headers, indented figure lines, target verdicts and the final summary.</summary>
internal static class Report
{
    private static readonly List<TargetCheck> Checks = [];
    private static readonly List<string> FailedPhases = [];

    public static bool AnyPhaseFailed => FailedPhases.Count > 0;

    public static void Phase(string title)
    {
        Console.WriteLine();
        Console.WriteLine($"== {title} ==");
    }

    public static void Line(string text) => Console.WriteLine("  " + text);

    public static void Lines(IEnumerable<string> lines, string indent = "")
    {
        foreach (var line in lines)
        {
            Line(indent + line);
        }
    }

    /// <summary>Records and prints a "measured ≥/≤ goal" verdict.</summary>
    public static void Target(string phase, string figure, double measured, string relation, double goal, string unit,
        string format = "N0")
    {
        var met = relation switch
        {
            ">=" => measured >= goal,
            "<=" => measured <= goal,
            "<" => measured < goal,
            _ => throw new ArgumentException("relation must be >=, <= or <", nameof(relation)),
        };
        var check = new TargetCheck(phase, figure, measured.ToString(format, CultureInfo.InvariantCulture) + unit,
            relation + " " + goal.ToString(format, CultureInfo.InvariantCulture) + unit, met);
        Checks.Add(check);
        Line($"TARGET {figure}: {check.Measured} (target {check.Goal}) -> {(met ? "met" : "MISSED")}");
    }

    public static void PhaseFailed(string phase, Exception e)
    {
        FailedPhases.Add(phase);
        Line($"PHASE FAILED: {e.GetType().Name}: {e.Message}");
    }

    public static void Summary(TimeSpan elapsed)
    {
        Console.WriteLine();
        Console.WriteLine($"== summary (targets of the issue; whole run {Stats.Seconds(elapsed)}) ==");
        foreach (var check in Checks)
        {
            Console.WriteLine($"  {(check.Met ? "met   " : "MISSED")}  {check.Phase,-7} {check.Figure,-44} " +
                $"{check.Measured,14}   target {check.Goal}");
        }
        foreach (var phase in FailedPhases)
        {
            Console.WriteLine($"  FAILED  {phase,-7} (phase did not complete; see above)");
        }
        Console.WriteLine($"  {Checks.Count(c => c.Met)} of {Checks.Count} targets met" +
            (FailedPhases.Count > 0 ? $", {FailedPhases.Count} phase(s) failed" : ""));
    }
}
