using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Tallystick.Server.Balances;

/// <summary>How a scoped answer is broken down in time (UTC calendar units; weeks start on Monday, ISO 8601).</summary>
internal enum Granularity
{
    Day,
    Week,
    Month,
}

/// <summary>
/// The scope parameters as received, before any rule is applied. Derive reads them from the query string, compare
/// from its JSON body; both then go through the one <see cref="Scope.Parse"/>.
/// </summary>
internal sealed record ScopeInput(
    string? Period = null,
    string? TimePreset = null,
    string? StartDate = null,
    string? EndDate = null,
    string? StartingBalance = null,
    string? StartingCheckpoint = null,
    string? StartingCheckpointType = null,
    string? Granularity = null)
{
    private static readonly string[] Names =
        ["period", "timePreset", "startDate", "endDate", "startingBalance", "startingCheckpoint",
         "startingCheckpointType", "granularity"];

    /// <summary>Reads the scope parameters of a query; a parameter given twice is refused, never guessed.</summary>
    public static (ScopeInput? Input, ApiError? Error) FromQuery(IQueryCollection query)
    {
        var values = new string?[Names.Length];
        for (var i = 0; i < Names.Length; i++)
        {
            var raw = query[Names[i]];
            if (raw.Count > 1)
            {
                return (null, new ApiError("INVALID_QUERY", $"'{Names[i]}' is given more than once", Names[i]));
            }
            values[i] = raw.Count == 1 && !string.IsNullOrEmpty(raw[0]) ? raw[0] : null;
        }
        return (new ScopeInput(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7]),
            null);
    }
}

/// <summary>
/// A validated scope (reference §2.4): a UTC time window [<see cref="Start"/>, <see cref="End"/>), a window that
/// starts after a checkpoint, or all time. Resolved against a customer's records by <see cref="ScopeWindow"/>.
/// </summary>
/// <remarks>
/// Rules, in precedence order (the first that applies answers): a malformed value of any parameter
/// (<c>INVALID_PERIOD</c>, <c>INVALID_TIME_PRESET</c>, <c>INVALID_DATE</c>, <c>INVALID_GRANULARITY</c>,
/// <c>INVALID_STARTING_BALANCE</c>, <c>INVALID_CHECKPOINT_TYPE</c>); then the combination rules 1–5
/// (<c>INVALID_SCOPE_COMBINATION</c>); then <c>INVALID_DATE_RANGE</c> (end not after start) and
/// <c>SCOPE_TOO_WIDE</c> (more than <see cref="Limits.ScopeMonthsMax"/> months).
/// </remarks>
internal sealed record Scope(
    string Name,
    DateTimeOffset? Start,
    DateTimeOffset? End,
    string? Period,
    string? Checkpoint,
    string? CheckpointType,
    Amount StartingBalance,
    Granularity? Granularity)
{
    public const string AllTime = "all_time";
    public const string CheckpointName = "checkpoint";

    /// <summary>Checkpoint types: the newer names first, then the older aliases (reference §8 conflict 4).</summary>
    public const string RecordIdType = "recordId";
    public const string ProofRootType = "proofRoot";

    private static readonly string[] DateFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
    ];

    public bool IsTimeWindow => Start is not null;

    /// <summary>Applies every rule of reference §2.4 to <paramref name="input"/>; presets resolve against
    /// <paramref name="now"/> (from the injected TimeProvider).</summary>
    public static (Scope? Scope, ApiError? Error) Parse(ScopeInput input, DateTimeOffset now)
    {
        var startingBalance = Amount.Zero;
        if (input.StartingBalance is { } rawBalance &&
            (!Amount.TryParse(rawBalance, out startingBalance) || startingBalance.Abs() > Limits.BalanceAbsMax))
        {
            return Fail("INVALID_STARTING_BALANCE",
                "'startingBalance' must be a decimal number with at most 8 fraction digits within ±10^15",
                "startingBalance");
        }
        Granularity? granularity = null;
        if (input.Granularity is { } rawGranularity)
        {
            granularity = rawGranularity switch
            {
                "day" => Balances.Granularity.Day,
                "week" => Balances.Granularity.Week,
                "month" => Balances.Granularity.Month,
                _ => null,
            };
            if (granularity is null)
            {
                return Fail("INVALID_GRANULARITY", "'granularity' must be day, week or month", "granularity");
            }
        }
        if (input.Period is { } rawPeriod && ParsePeriod(rawPeriod) is null)
        {
            return Fail("INVALID_PERIOD", "'period' must be a month YYYY-MM (e.g. 2026-03)", "period");
        }
        if (input.TimePreset is not (null or "current_month" or "last_month" or "custom"))
        {
            return Fail("INVALID_TIME_PRESET", "'timePreset' must be current_month, last_month or custom", "timePreset");
        }
        DateTimeOffset? start = null, end = null;
        if (input.StartDate is { } rawStart && (start = ParseDate(rawStart)) is null)
        {
            return Fail("INVALID_DATE", "'startDate' must be an ISO 8601 date or date-time (UTC unless an offset is " +
                "given), e.g. 2026-03-01 or 2026-03-01T00:00:00Z", "startDate");
        }
        if (input.EndDate is { } rawEnd && (end = ParseDate(rawEnd)) is null)
        {
            return Fail("INVALID_DATE", "'endDate' must be an ISO 8601 date or date-time (UTC unless an offset is " +
                "given), e.g. 2026-04-01 or 2026-04-01T00:00:00Z", "endDate");
        }
        string? checkpointType = null;
        if (input.StartingCheckpointType is { } rawType)
        {
            checkpointType = rawType switch
            {
                RecordIdType or "anchorId" => RecordIdType,
                ProofRootType or "itemsRoot" => ProofRootType,
                _ => null,
            };
            if (checkpointType is null)
            {
                return Fail("INVALID_CHECKPOINT_TYPE",
                    "'startingCheckpointType' must be recordId or proofRoot (older names: anchorId, itemsRoot)",
                    "startingCheckpointType");
            }
        }
        return Combine(input, now, startingBalance, granularity, start, end, checkpointType);
    }

    private static (Scope?, ApiError?) Combine(ScopeInput input, DateTimeOffset now, Amount startingBalance,
        Granularity? granularity, DateTimeOffset? start, DateTimeOffset? end, string? checkpointType)
    {
        var anyTime = input.Period ?? input.TimePreset ?? input.StartDate ?? input.EndDate;
        if (input.StartingCheckpoint is { } checkpoint)
        {
            if (anyTime is not null)
            {
                return Combination("Choose either a checkpoint or a time scope for this request: " +
                    "'startingCheckpoint' cannot be combined with period, timePreset, startDate or endDate",
                    "startingCheckpoint");
            }
            var type = checkpointType ?? (checkpoint.StartsWith(Deltas.RecordIds.Prefix, StringComparison.Ordinal)
                ? RecordIdType
                : ProofRootType);
            return (new Scope(CheckpointName, null, null, null, checkpoint, type, startingBalance, granularity), null);
        }
        if (checkpointType is not null)
        {
            return Combination("'startingCheckpointType' needs 'startingCheckpoint'", "startingCheckpointType");
        }
        if (input.Period is { } period)
        {
            if (input.TimePreset is not null || start is not null || end is not null)
            {
                return Combination("'period' cannot be combined with timePreset, startDate or endDate", "period");
            }
            var month = ParsePeriod(period)!.Value;
            return Window("period", month, month.AddMonths(1), period, startingBalance, granularity);
        }
        switch (input.TimePreset)
        {
            case "current_month" or "last_month":
                if (start is not null || end is not null)
                {
                    return Combination($"startDate and endDate are allowed only with timePreset custom (or none), " +
                        $"not with {input.TimePreset}", start is not null ? "startDate" : "endDate");
                }
                var current = new DateTimeOffset(now.UtcDateTime.Year, now.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);
                var first = input.TimePreset == "current_month" ? current : current.AddMonths(-1);
                return Window(input.TimePreset, first, first.AddMonths(1), null, startingBalance, granularity);
            case "custom" when start is null || end is null:
                return Combination("timePreset custom requires both startDate and endDate",
                    start is null ? "startDate" : "endDate");
        }
        if ((start is null) != (end is null))
        {
            return Combination("startDate and endDate must be given together", start is null ? "startDate" : "endDate");
        }
        return start is null
            ? (new Scope(AllTime, null, null, null, null, null, startingBalance, granularity), null)
            : Window("custom", start.Value, end!.Value, null, startingBalance, granularity);
    }

    private static (Scope?, ApiError?) Window(string name, DateTimeOffset start, DateTimeOffset end, string? period,
        Amount startingBalance, Granularity? granularity)
    {
        if (end <= start)
        {
            return Fail("INVALID_DATE_RANGE", "endDate must be after startDate (the window is [startDate, endDate))",
                "endDate");
        }
        if (end > start.AddMonths(Limits.ScopeMonthsMax))
        {
            return Fail("SCOPE_TOO_WIDE", $"Scope window is too wide for a single request: at most " +
                $"{Limits.ScopeMonthsMax} months (maxScopeMonths, GET /api/v1/balance/limits)", "endDate");
        }
        return (new Scope(name, start, end, period, null, null, startingBalance, granularity), null);
    }

    /// <summary>The first instant of month <c>YYYY-MM</c> (UTC), or null.</summary>
    public static DateTimeOffset? ParsePeriod(string text) =>
        text.Length == 7 && DateTime.TryParseExact(text, "yyyy-MM", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var month)
            ? new DateTimeOffset(month, TimeSpan.Zero)
            : null;

    /// <summary>An ISO 8601 date (midnight UTC) or date-time; without an offset the time is UTC.</summary>
    public static DateTimeOffset? ParseDate(string text) =>
        DateTimeOffset.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value.ToUniversalTime()
            : null;

    private static (Scope?, ApiError?) Combination(string message, string field) =>
        Fail("INVALID_SCOPE_COMBINATION", message, field);

    private static (Scope?, ApiError?) Fail(string code, string message, string field) =>
        (null, new ApiError(code, message, field));
}
