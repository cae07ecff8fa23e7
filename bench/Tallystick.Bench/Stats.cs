namespace Tallystick.Bench;

internal static class Stats
{
    /// <summary>Nearest-rank percentile of an ascending list (0 when empty).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent)
    {
        if (sorted.Count == 0)
        {
            return 0;
        }
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return 0;
        }
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    public static string Rate(double perSecond) => perSecond.ToString("N0");

    public static string Ms(double milliseconds) =>
        milliseconds < 10 ? milliseconds.ToString("0.00") + " ms" : milliseconds.ToString("0.0") + " ms";

    public static string MiB(double bytes) => (bytes / (1024.0 * 1024.0)).ToString("N0") + " MiB";

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.#") + " s";
}
