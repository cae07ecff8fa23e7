using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using Tallystick.Client;
using Tallystick.Wire;

namespace Tallystick.Cli;

/// <summary>
/// The balance-window options of derive, compare and checkpoint, mirroring <see cref="TallyScope"/>:
/// <c>--period YYYY-MM|current_month|last_month</c>, <c>--from</c>/<c>--to</c> (UTC, end exclusive),
/// <c>--months-back N</c>, and for derive and compare also <c>--starting-balance</c>, <c>--after</c> (a starting
/// checkpoint) and <c>--granularity</c>. The CLI checks only what it must to build the request (formats, and the
/// options that would set the same parameter twice); the server applies every scope rule of docs/api.md and its
/// refusals exit 1.
/// </summary>
internal sealed partial class ScopeOptions
{
    private readonly bool _full;

    public ScopeOptions(bool full)
    {
        _full = full;
    }

    public Option<string?> Period { get; } = new("--period")
    {
        Description = "A month YYYY-MM, or current_month or last_month (UTC).",
    };

    public Option<string?> From { get; } = new("--from")
    {
        Description = "Window start, inclusive: YYYY-MM-DD or an ISO 8601 date-time (UTC unless an offset is given).",
    };

    public Option<string?> To { get; } = new("--to") { Description = "Window end, exclusive (as --from)." };

    public Option<int?> MonthsBack { get; } = new("--months-back")
    {
        Description = "The whole UTC month N months before this one (0 = this month, 1 = last month).",
    };

    public Option<string?> StartingBalance { get; } = new("--starting-balance")
    {
        Description = "Added to the window's net (default 0).",
    };

    public Option<string?> After { get; } = new("--after")
    {
        Description = "Start after this checkpoint: a recordId (rec_…) or a receiptId/proofRoot (0x…).",
    };

    public Option<string?> Granularity { get; } = new("--granularity")
    {
        Description = "Add a breakdown by day, week or month.",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Period);
        command.Options.Add(From);
        command.Options.Add(To);
        command.Options.Add(MonthsBack);
        if (_full)
        {
            command.Options.Add(StartingBalance);
            command.Options.Add(After);
            command.Options.Add(Granularity);
            Granularity.AcceptOnlyFromAmong("day", "week", "month");
        }
        command.Validators.Add(Validate);
    }

    /// <summary>Reads the options into a scope (valid after <see cref="Validate"/> passed). <paramref name="now"/>
    /// places <c>--months-back</c>.</summary>
    public TallyScope Read(ParseResult parse, DateTimeOffset now)
    {
        var scope = parse.GetValue(MonthsBack) is { } back ? TallyScope.MonthsBack(back, now) : new TallyScope();
        var period = parse.GetValue(Period);
        scope = period is "current_month" or "last_month" ? scope with { TimePreset = period }
            : period is not null ? scope with { Period = period }
            : scope;
        scope = scope with
        {
            StartDate = ParseDate(parse.GetValue(From)),
            EndDate = ParseDate(parse.GetValue(To)),
        };
        if (!_full)
        {
            return scope;
        }
        return scope with
        {
            StartingBalance = parse.GetValue(StartingBalance) is { } balance ? ParseAmount(balance)?.Value : null,
            StartingCheckpoint = parse.GetValue(After),
            Granularity = parse.GetValue(Granularity),
        };
    }

    /// <summary>The scope as compare's body members (the same text the SDK sends as derive's query).</summary>
    public static CompareRequest ApplyTo(CompareRequest request, TallyScope scope) => request with
    {
        Period = scope.Period,
        TimePreset = scope.TimePreset,
        StartDate = FormatDate(scope.StartDate),
        EndDate = FormatDate(scope.EndDate),
        StartingBalance = scope.StartingBalance is { } b ? Amount.FromDecimal(b) : null,
        StartingCheckpoint = scope.StartingCheckpoint,
        Granularity = scope.Granularity,
    };

    /// <summary>Parses a CLI amount with the wire's number rules (a JSON number, at most 8 fraction digits).</summary>
    public static Amount? ParseAmount(string text) => Amount.TryParse(text.Trim(), out var amount) ? amount : null;

    private void Validate(CommandResult result)
    {
        var period = result.GetValue(Period);
        if (period is not null && period is not ("current_month" or "last_month") && !MonthPattern().IsMatch(period))
        {
            result.AddError($"--period '{period}' is not YYYY-MM, current_month or last_month");
        }
        if (result.GetValue(MonthsBack) is { } back && (back < 0 || period is not null))
        {
            result.AddError(back < 0 ? "--months-back must be 0 or more" : "give --period or --months-back, not both");
        }
        foreach (var option in new[] { From, To })
        {
            if (result.GetValue(option) is { } date && ParseDate(date) is null)
            {
                result.AddError($"{option.Name} '{date}' is not a date (YYYY-MM-DD or ISO 8601 date-time)");
            }
        }
        if (_full && result.GetValue(StartingBalance) is { } balance && ParseAmount(balance) is null)
        {
            result.AddError($"--starting-balance '{balance}' is not a number with at most 8 fraction digits");
        }
    }

    private static DateTimeOffset? ParseDate(string? text) =>
        text is not null && DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
            ? date
            : null;

    private static string? FormatDate(DateTimeOffset? date) =>
        date?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}$")]
    private static partial Regex MonthPattern();
}
