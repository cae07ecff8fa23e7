using System.Globalization;

namespace Tallystick.Client;

/// <summary>
/// A balance window for derive, compare windows and invoice proofs (reference §2.4): a month, a preset, explicit
/// dates (UTC, end exclusive), or a window that starts after a checkpoint. The server applies every scope rule and
/// answers a violation with <see cref="TallyErrorKind.Scope"/> or <see cref="TallyErrorKind.Validation"/>; this type
/// only carries values. Immutable.
/// </summary>
public sealed record TallyScope
{
    /// <summary>A month, <c>YYYY-MM</c>.</summary>
    public string? Period { get; init; }

    /// <summary><c>current_month</c>, <c>last_month</c> or <c>custom</c>.</summary>
    public string? TimePreset { get; init; }

    /// <summary>Inclusive start.</summary>
    public DateTimeOffset? StartDate { get; init; }

    /// <summary>Exclusive end.</summary>
    public DateTimeOffset? EndDate { get; init; }

    /// <summary>Added to the window's net.</summary>
    public decimal? StartingBalance { get; init; }

    /// <summary>A recordId or proof root the window starts after.</summary>
    public string? StartingCheckpoint { get; init; }

    /// <summary><c>recordId</c> or <c>proofRoot</c>.</summary>
    public string? StartingCheckpointType { get; init; }

    /// <summary><c>day</c>, <c>week</c> or <c>month</c>: asks for a breakdown.</summary>
    public string? Granularity { get; init; }

    /// <summary>The current UTC month.</summary>
    public static TallyScope CurrentMonth { get; } = new() { TimePreset = "current_month" };

    /// <summary>The UTC month <paramref name="month"/> of <paramref name="year"/>.</summary>
    public static TallyScope ForPeriod(int year, int month) =>
        new() { Period = new DateTime(year, month, 1, 0, 0, 0, DateTimeKind.Utc).ToString("yyyy-MM", CultureInfo.InvariantCulture) };

    /// <summary>
    /// The whole UTC month <paramref name="monthsBack"/> months before the one holding <paramref name="now"/>
    /// (0 = that month, 1 = the previous one).
    /// </summary>
    public static TallyScope MonthsBack(int monthsBack, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(monthsBack);
        var month = new DateTime(now.UtcDateTime.Year, now.UtcDateTime.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(-monthsBack);
        return ForPeriod(month.Year, month.Month);
    }

    internal IEnumerable<(string Name, string? Value)> Parameters()
    {
        yield return ("period", Period);
        yield return ("timePreset", TimePreset);
        yield return ("startDate", StartDate?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        yield return ("endDate", EndDate?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        yield return ("startingBalance", StartingBalance?.ToString(CultureInfo.InvariantCulture));
        yield return ("startingCheckpoint", StartingCheckpoint);
        yield return ("startingCheckpointType", StartingCheckpointType);
        yield return ("granularity", Granularity);
    }
}
